#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test suite and prints its DATABASE_URL.
# Installs Debian's postgresql package when no server is on the machine.
#   usage: scripts/test-postgres.sh start [dir] | stop [dir]
set -euo pipefail

action=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/herald-test-postgres}
port=${HERALD_TEST_PG_PORT:-54329}

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] || found=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")
  echo "$found"
}

bin=$(find_bin)
if [ ! -x "$bin/pg_ctl" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "PostgreSQL is not installed; install it (apt-get install postgresql) or set DATABASE_URL" >&2; exit 1; fi
  echo "Installing PostgreSQL from Debian's packages ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$action" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
      as_owner "$bin/initdb" -D "$dir" -U herald --auth=trust >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U herald -d postgres -tAc "select 1 from pg_database where datname='herald_test'" | grep -q 1 ||
      "$bin/createdb" -h 127.0.0.1 -p "$port" -U herald herald_test
    echo "postgres://herald@127.0.0.1:$port/herald_test"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [dir]" >&2; exit 2 ;;
esac
