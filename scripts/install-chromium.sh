#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests, installing Debian's chromium package when there is none
# (Playwright's own browser downloads are not used: playwright-core drives this one).
exec bash "$(dirname "$0")/install-debian-tool.sh" chromium chromium CHROMIUM_PATH
