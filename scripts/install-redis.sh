#!/usr/bin/env bash
# Prints the path of a redis-server binary, installing Debian's redis-server package when there is none.
set -euo pipefail
found=${REDIS_SERVER:-$(command -v redis-server || true)}
if [ -z "$found" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "redis-server is not installed; install it (apt-get install redis-server) or set REDIS_SERVER" >&2; exit 1; fi
  echo "Installing Redis from Debian's packages ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq redis-server >&2
  found=$(command -v redis-server)
fi
echo "$found"
