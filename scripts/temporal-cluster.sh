#!/usr/bin/env bash
# A real Temporal server on PostgreSQL with 8 history shards: what users run once one box is not
# enough, for benchmarking Herald against (npm run bench -- --temporal-address 127.0.0.1:7533).
# Builds the server and its SQL tool from their Go modules (cached under .tools/), creates the
# schemas on the PostgreSQL that scripts/test-postgres.sh runs, and starts the server in the
# background with its files under .tools/temporal-cluster/.
#   usage: scripts/temporal-cluster.sh start | stop | status
#   env:   TEMPORAL_SERVER_VERSION (v1.32.1), TEMPORAL_CLUSTER_PORT (7533), TEMPORAL_CLUSTER_SHARDS (8),
#          TEMPORAL_CLUSTER_HOME (its files), TEMPORAL_CLUSTER_DATABASE_URL (another PostgreSQL to keep its state in)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${TEMPORAL_SERVER_VERSION:-v1.32.1}
port=${TEMPORAL_CLUSTER_PORT:-7533}
shards=${TEMPORAL_CLUSTER_SHARDS:-8}
namespace=${TEMPORAL_NAMESPACE:-default}
tools=$(pwd)/.tools
bin=$tools/temporal-server-$version
home=${TEMPORAL_CLUSTER_HOME:-$tools/temporal-cluster}
pid_file=$home/server.pid

log() { echo "[temporal-cluster] $*" >&2; }

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

build() {
  [ -x "$bin/server" ] && [ -x "$bin/sql" ] && return
  command -v go >/dev/null || { log "Go is required to build the Temporal server"; exit 1; }
  log "building the Temporal server $version and its SQL tool (once; takes several minutes) ..."
  mkdir -p "$bin"
  GOBIN=$bin GOTOOLCHAIN=local go install "go.temporal.io/server/cmd/server@$version" "go.temporal.io/server/cmd/tools/sql@$version"
}

# The schema files ship inside the server's Go module.
schema_dir() { echo "$(go env GOMODCACHE)/go.temporal.io/server@$version/schema/postgresql/v12"; }

# Creates (or upgrades) the two databases the server keeps its state and visibility in.
setup_schema() {
  local url=$1 host port_ user
  host=$(node -e 'const u = new URL(process.argv[1]); console.log(u.hostname)' "$url")
  port_=$(node -e 'const u = new URL(process.argv[1]); console.log(u.port || 5432)' "$url")
  user=$(node -e 'const u = new URL(process.argv[1]); console.log(decodeURIComponent(u.username))' "$url")
  for db in temporal temporal_visibility; do
    local kind=temporal
    [ "$db" = temporal_visibility ] && kind=visibility
    local sql=("$bin/sql" --plugin postgres12 --ep "$host" -p "$port_" -u "$user" --db "$db")
    "${sql[@]}" create-database >/dev/null 2>&1 || true
    "${sql[@]}" setup-schema -v 0.0 >/dev/null 2>&1 || true
    "${sql[@]}" update-schema -d "$(schema_dir)/$kind/versioned" >"$home/schema.log" 2>&1 ||
      { tail -n 20 "$home/schema.log" >&2; log "could not set up the $db schema"; exit 1; }
  done
  echo "$host" "$port_" "$user"
}

write_config() {
  local host=$1 pg_port=$2 user=$3
  mkdir -p "$home/config/dynamicconfig"
  cat >"$home/config/dynamicconfig/herald.yaml" <<EOF
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.enableActivityEagerExecution:
  - value: true
EOF
  store() {
    cat <<EOF
      sql:
        pluginName: postgres12
        databaseName: $1
        connectAddr: "$host:$pg_port"
        connectProtocol: tcp
        user: "$user"
        password: ""
        maxConns: $2
        maxIdleConns: $2
        maxConnLifetime: 1h
EOF
  }
  cat >"$home/config/herald.yaml" <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: $shards
  datastores:
    default:
$(store temporal 20)
    visibility:
$(store temporal_visibility 10)
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc: { grpcPort: $port, membershipPort: $((port + 100)), bindOnLocalHost: true, httpPort: $((port + 10)) }
  history:
    rpc: { grpcPort: $((port + 1)), membershipPort: $((port + 101)), bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: $((port + 2)), membershipPort: $((port + 102)), bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: $((port + 6)), membershipPort: $((port + 106)), bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:$port
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: $home/config/dynamicconfig/herald.yaml
  pollInterval: 10s
EOF
}

temporal_cli() {
  node --import tsx -e "const p = require('./runtime/temporal-binaries').ensureTemporalBinary('cli', console.error); if (!p) process.exit(1); console.log(p)"
}

start() {
  if running; then
    log "already running (pid $(cat "$pid_file")) on 127.0.0.1:$port"
    return
  fi
  build
  local url
  url=${TEMPORAL_CLUSTER_DATABASE_URL:-$(bash scripts/test-postgres.sh start)}
  mkdir -p "$home"
  local where
  where=$(setup_schema "$url")
  read -r host pg_port user <<<"$where"
  write_config "$host" "$pg_port" "$user"
  log "starting on 127.0.0.1:$port ($shards history shards, PostgreSQL at $host:$pg_port)"
  local cli
  cli=$(temporal_cli)
  if "$cli" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
    log "another Temporal server already listens on 127.0.0.1:$port (set TEMPORAL_CLUSTER_PORT)"
    exit 1
  fi
  nohup "$bin/server" --root "$home" --config config --env herald --allow-no-auth start >"$home/server.log" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 120); do
    running || { tail -n 30 "$home/server.log" >&2; log "the server exited"; exit 1; }
    if "$cli" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then break; fi
    sleep 1
  done
  "$cli" operator namespace describe --namespace "$namespace" --address "127.0.0.1:$port" >/dev/null 2>&1 ||
    "$cli" operator namespace create --namespace "$namespace" --retention 24h --address "127.0.0.1:$port" >/dev/null
  # A new namespace takes a moment to reach every service.
  for _ in $(seq 1 30); do
    "$cli" workflow list --namespace "$namespace" --address "127.0.0.1:$port" --limit 1 >/dev/null 2>&1 && break
    sleep 1
  done
  echo "127.0.0.1:$port"
}

stop() {
  if running; then
    kill "$(cat "$pid_file")"
    for _ in $(seq 1 30); do running || break; sleep 1; done
    running && kill -9 "$(cat "$pid_file")"
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$port"; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
