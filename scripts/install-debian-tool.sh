#!/usr/bin/env bash
# Prints the path of a command, installing the Debian package that has it when there is none.
#   install-debian-tool.sh <command> <package> <variable that may name the command's path instead>
set -euo pipefail
command=$1 package=$2 variable=$3
found=${!variable:-$(command -v "$command" || true)}
if [ -z "$found" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "$command is not installed; install it (apt-get install $package) or set $variable" >&2; exit 1; fi
  echo "Installing $package from Debian's packages ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "$package" >&2
  found=$(command -v "$command")
fi
echo "$found"
