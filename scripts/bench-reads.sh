#!/usr/bin/env bash
# Seat-map and queue-poll reads under wrk, each beside /health/live in the same
# run, against one running concert-server (start it yourself; see docs/benchmarks.md).
#
#   BASE=http://127.0.0.1:18080 ADMIN_KEY=... scripts/bench-reads.sh
#
# Creates one user, a concert with SEATS seats, joins and waits until ACTIVE,
# then runs wrk at concurrency CONC for DURATION seconds on:
#   /health/live; the seat map (identity, gzip, and revalidating with
#   If-None-Match); the token poll of that ACTIVE token; and (poll-waiting)
#   the poll of a second user's WAITING token: the queue is paused before
#   that user joins, so the token stays WAITING (position 1) and every poll
#   runs the queue store's whole WAITING read (status, rank, rate).
# Environment: BASE ADMIN_KEY SEATS=1000 CONC=64 DURATION=10 THREADS=2
#   WHAT="health map map-gzip map-304 poll poll-waiting"
#   TSV=PATH   also append each result as "name<TAB>req/s<TAB>p50<TAB>p99<TAB>non-2xx/3xx"
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:18080}
ADMIN_KEY=${ADMIN_KEY:?set ADMIN_KEY}
SEATS=${SEATS:-1000}
CONC=${CONC:-64}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
WHAT=${WHAT:-"health map map-gzip map-304 poll poll-waiting"}
TAG=r$RANDOM$RANDOM

# user LOGIN: signs LOGIN up and prints its access token.
user() {
  curl -sf -X POST "$BASE/api/v1/users" -H 'Content-Type: application/json' \
    -d "{\"loginId\":\"$1\",\"password\":\"bench-password-1\"}" >/dev/null
  curl -sf -X POST "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"loginId\":\"$1\",\"password\":\"bench-password-1\"}" | jq -r .accessToken
}
access=$(user "$TAG-user")
starts=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
created=$(curl -sf -X POST "$BASE/api/v1/admin/concerts" -H 'Content-Type: application/json' \
  -H "X-Admin-Key: $ADMIN_KEY" \
  -d "{\"title\":\"reads $TAG\",\"venue\":\"bench\",\"schedules\":[{\"startsAt\":\"$starts\",\"seatCount\":$SEATS,\"price\":50000}]}")
concert=$(jq -r .concertId <<<"$created")
schedule=$(jq -r '.schedules[0].scheduleId' <<<"$created")
token=$(curl -sf -X POST "$BASE/api/v1/concerts/$concert/queue/tokens" -H "Authorization: Bearer $access" | jq -r .token)
for _ in $(seq 100); do
  status=$(curl -sf "$BASE/api/v1/queue/tokens/current" -H "Authorization: Bearer $access" \
    -H "X-Queue-Token: $token" | jq -r .status)
  [[ $status == ACTIVE ]] && break
  sleep 0.2
done
[[ $status == ACTIVE ]] || { echo "not admitted: $status" >&2; exit 1; }
if [[ " $WHAT " == *" poll-waiting "* ]]; then
  curl -sf -X PATCH "$BASE/api/v1/admin/concerts/$concert/queue" -H 'Content-Type: application/json' \
    -H "X-Admin-Key: $ADMIN_KEY" -d '{"paused":true}' >/dev/null
  waiter=$(user "$TAG-waiter")
  waiting=$(curl -sf -X POST "$BASE/api/v1/concerts/$concert/queue/tokens" -H "Authorization: Bearer $waiter")
  [[ $(jq -r .status <<<"$waiting") == WAITING ]] || { echo "not WAITING: $waiting" >&2; exit 1; }
  waiting_token=$(jq -r .token <<<"$waiting")
fi
MAP="$BASE/api/v1/concerts/$concert/schedules/$schedule/seats"
etag=$(curl -sf -D - -o /dev/null "$MAP" -H "Authorization: Bearer $access" -H "X-Queue-Token: $token" |
  tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
plain_bytes=$(curl -sf "$MAP" -H "Authorization: Bearer $access" -H "X-Queue-Token: $token" | wc -c)
gzip_bytes=$(curl -sf "$MAP" -H 'Accept-Encoding: gzip' -H "Authorization: Bearer $access" -H "X-Queue-Token: $token" | wc -c)
echo "seat map: $SEATS seats, $plain_bytes bytes JSON, $gzip_bytes bytes gzip, ETag $etag"

run() {
  local name=$1
  shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONC" -d"${DURATION}s" --latency "$@")
  local rps p50 p99 non2xx
  rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' <<<"$out")
  printf '%-10s %12s req/s  p50 %8s  p99 %8s  non-2xx/3xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  if [[ -n ${TSV:-} ]]; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" >>"$TSV"
  fi
}
auth=(-H "Authorization: Bearer $access" -H "X-Queue-Token: $token")
for what in $WHAT; do
  case $what in
    health) run health "$BASE/health/live" ;;
    map) run map "${auth[@]}" "$MAP" ;;
    map-gzip) run map-gzip "${auth[@]}" -H 'Accept-Encoding: gzip' "$MAP" ;;
    map-304) run map-304 "${auth[@]}" -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag" "$MAP" ;;
    poll) run poll "${auth[@]}" "$BASE/api/v1/queue/tokens/current" ;;
    poll-waiting) run poll-waiting -H "Authorization: Bearer $waiter" -H "X-Queue-Token: $waiting_token" \
      "$BASE/api/v1/queue/tokens/current" ;;
  esac
done
