#!/usr/bin/env bash
# The OpenAPI document is the contract: Schemathesis fuzzes every operation of a Herald running on the
# embedded defaults and fails on any finding (server errors, undocumented statuses or content types,
# responses off their schema, schema-violating input accepted).
#   npm run test:contract                 a random seed each run
#   SEED=42 npm run test:contract         reproducible (CI uses a fixed seed)
#   npm run test:contract -- --max-examples 200   more cases; any other schemathesis option too
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=.tools/schemathesis
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "Installing schemathesis $version from PyPI into $venv ..."
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
data=$(mktemp -d)
port=$(free_port)
log="$data/herald.log"
# Limits high enough that the fuzzing is not throttled: rate limits have tests of their own.
PORT=$port HOST=127.0.0.1 HERALD_DATA_DIR="$data" HERALD_TENANT_RATE_PER_SECOND=100000 HERALD_TENANT_BURST=100000 HERALD_AUTH_FAILURES_PER_MINUTE=100000 \
  TEMPORAL_DEV_PORT=$(free_port) TEMPORAL_UI_PORT=$(free_port) \
  HERALD_SDK_METRICS_ADDRESS= LOG_LEVEL=warn node scripts/start.mjs >"$log" 2>&1 &
herald=$!
stop() {
  kill -INT "$herald" 2>/dev/null || true
  wait "$herald" 2>/dev/null || true
  rm -rf "$data"
}
trap stop EXIT

for _ in $(seq 1 180); do
  grep -qs 'Herald is running' "$log" && break
  if ! kill -0 "$herald" 2>/dev/null; then cat "$log"; echo "Herald did not start"; exit 1; fi
  sleep 1
done
grep -q 'Herald is running' "$log" || { cat "$log"; echo "Herald did not start in time"; exit 1; }

curl -sf -X POST "http://127.0.0.1:$port/admin/tenants" -H "Authorization: Bearer $(cat "$data/admin-token")" \
  -H 'content-type: application/json' -d '{"id":"contract-fuzz"}' >/dev/null || { echo "could not create the admin API's tenant"; exit 1; }

seed=${SEED:-$RANDOM}
echo "Fuzzing http://127.0.0.1:$port/docs/json with seed $seed"
# use_after_free is off: a recipient id names an inbox and preferences whether or not a profile is stored
# under it (inline recipients have both), so after DELETE /recipients/:id they answer empty, not 404.
# The dev tenant's key for tenant routes, the admin token for /admin (test/contract/schemathesis.toml).
HERALD_CONTRACT_KEY=$(cat "$data/dev-api-key") HERALD_CONTRACT_ADMIN_TOKEN=$(cat "$data/admin-token") \
  SCHEMATHESIS_HOOKS="$PWD/test/contract/hooks.py" "$venv/bin/schemathesis" \
  --config-file test/contract/schemathesis.toml \
  run "http://127.0.0.1:$port/docs/json" \
  --checks all \
  --exclude-checks use_after_free \
  --seed "$seed" \
  --max-examples "${MAX_EXAMPLES:-25}" \
  --no-color \
  "$@"
