#!/usr/bin/env bash
# Prints the path of a redis-server binary, installing Debian's redis-server package when there is none.
exec bash "$(dirname "$0")/install-debian-tool.sh" redis-server redis-server REDIS_SERVER
