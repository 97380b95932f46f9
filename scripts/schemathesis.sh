#!/usr/bin/env bash
# Property-based API check: schemathesis generates requests from the served
# OpenAPI document and checks every answer against it (--checks all), as a
# signed-in user with the admin key, on a fresh SQLite database.
# Bounded: MAX_EXAMPLES per operation (default 30) and TIME_LIMIT seconds (default 600),
# so it can run as a CI or bench job; expected result: zero failures.
# scripts/schemathesis.toml scopes the few checks that cannot apply (each explained there).
#   pip install schemathesis    # 4.x; or set SCHEMATHESIS=/path/to/schemathesis
#   MAX_EXAMPLES=10 scripts/schemathesis.sh
# A payment's `reservationIds` documents maxItems 50, the most
# APP__RESERVATION__MAX_HOLDS_PER_USER may be: the server here allows that many.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS=${SCHEMATHESIS:-schemathesis}
MAX_EXAMPLES=${MAX_EXAMPLES:-30}
TIME_LIMIT=${TIME_LIMIT:-600}
ADMIN_KEY=schemathesis-admin-key
PORT=${PORT:-18089}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)

[ -n "${SKIP_BUILD:-}" ] || cargo build --quiet --bin concert-server
BIN="${CARGO_TARGET_DIR:-target}/debug/concert-server"

APP__SERVER__PORT=$PORT \
APP__DATABASE__URL="sqlite://$WORK/schemathesis.db" \
APP__ADMIN__API_KEY=$ADMIN_KEY \
APP__DEMO__SEED=true \
APP__QUEUE__ADMIT_INTERVAL_MS=100 \
APP__RESERVATION__MAX_HOLDS_PER_USER=50 \
  "$BIN" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

for _ in $(seq 1 100); do
  curl -fs "$BASE/health/ready" >/dev/null && break
  sleep 0.2
done

CREDS='{"loginId":"schemathesis","password":"password-123"}'
curl -fs -X POST "$BASE/api/v1/users" -H 'Content-Type: application/json' -d "$CREDS" >/dev/null
TOKEN=$(curl -fs -X POST "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' -d "$CREDS" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')

# scripts/schemathesis.toml: the few checks that cannot apply, each scoped and explained.
timeout "$TIME_LIMIT" "$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "$BASE/api-docs/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $TOKEN" \
  --header "X-Admin-Key: $ADMIN_KEY" \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 15 \
  --seed 1 \
  "$@"
