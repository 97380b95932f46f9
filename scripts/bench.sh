#!/usr/bin/env bash
# Flash-sale benchmark of the concert server, on this machine, from a fresh clone.
#
#   scripts/bench.sh                              # the issue's sizes (long: see docs/benchmarks.md)
#   BENCH_USERS=300 BENCH_SEATS=50 scripts/bench.sh   # a quick run
#
# Builds release binaries, makes sure PostgreSQL runs, and for each server run
# creates a fresh database (bench_*), starts concert-server on 127.0.0.1, runs
# the load test against it and stops it; the databases are dropped at the end.
#   micro (PostgreSQL, large queue cap): health, seat-map, reads, hold,
#          purchase, contend, queue-poll, and the pgbench baselines
#   queue-redis: queue-poll with the queue on Redis (and its wrk poll), then redis-benchmark
#   reads-sqlite: reads on SQLite
#   buyers (PostgreSQL): the sales' buyers, created once; then each
#          PostgreSQL sale on a copy: flash-pg and flash-pg-redis, K=500
#   flash-sqlite (SQLite, temp dir): flash-sale with K=500
# Writes target/bench/report.md and target/bench/report.json (plus each
# scenario's .json/.txt and the server logs).
#
# Environment (defaults are the issue's sizes):
#   BENCH_USERS=10000 BENCH_SEATS=1000 BENCH_QUEUE_CAP=500   flash sale
#   BENCH_HOLDS=1000 BENCH_LEVELS=1,8,32,64                   hold and pgbench (holds per level)
#   BENCH_PURCHASES=500 BENCH_PURCHASE_LEVELS=8,32             purchase (one user per purchase)
#   BENCH_MIN_TX=5000                                          pgbench-min: transactions per level
#   BENCH_CONCURRENCY=64 BENCH_DURATION_SECS=10               health, seat-map (and queue-poll's duration)
#   BENCH_MAP_SEATS=1000                                      seats in the seat-map scenario's schedule
#   BENCH_WAITING=100000                                      queue-poll line length
#   BENCH_CONTENDERS=100 BENCH_ROUNDS=20                      contend
#   BENCH_SETUP_CONCURRENCY=4    users created at once (Argon2 on the server: 2 per user)
#   BENCH_SCENARIOS="health seat-map reads hold purchase pgbench pgbench-min contend queue-poll queue-poll-redis flash-pg flash-pg-redis flash-sqlite"
#     (reads: wrk on the seat map of BENCH_MAP_SEATS seats beside /health/live at
#      BENCH_CONCURRENCY, on PostgreSQL and on SQLite; with queue-poll-redis also
#      a WAITING token's poll with the queue on Redis, at 16; needs wrk and jq)
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432  BENCH_PORT=18080
#   BENCH_OUT=target/bench       where the results go
#   BENCH_RUST_LOG=warn          the server's log level (info logs a line per request)
#   BENCH_SKIP_BUILD=1           use the binaries already built
#   BENCH_SERVER_BIN=PATH        run this concert-server (e.g. an older build, for before/after)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

USERS=${BENCH_USERS:-10000}
SEATS=${BENCH_SEATS:-1000}
K=${BENCH_QUEUE_CAP:-500}
HOLDS=${BENCH_HOLDS:-1000}
LEVELS=${BENCH_LEVELS:-1,8,32,64}
PURCHASES=${BENCH_PURCHASES:-500}
PURCHASE_LEVELS=${BENCH_PURCHASE_LEVELS:-8,32}
MIN_TX=${BENCH_MIN_TX:-5000}
CONC=${BENCH_CONCURRENCY:-64}
MAP_SEATS=${BENCH_MAP_SEATS:-1000}
DURATION=${BENCH_DURATION_SECS:-10}
WAITING=${BENCH_WAITING:-100000}
CONTENDERS=${BENCH_CONTENDERS:-100}
ROUNDS=${BENCH_ROUNDS:-20}
SETUP_CONC=${BENCH_SETUP_CONCURRENCY:-4}
SCENARIOS=${BENCH_SCENARIOS:-"health seat-map reads hold purchase pgbench pgbench-min contend queue-poll queue-poll-redis flash-pg flash-pg-redis flash-sqlite"}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-18080}
SERVER_LOG_LEVEL=${BENCH_RUST_LOG:-warn}
ADMIN_KEY="bench-admin-$RANDOM$RANDOM"
BASE="http://127.0.0.1:$PORT"

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${BENCH_OUT:-$ROOT/target/bench}
SERVER_BIN=${BENCH_SERVER_BIN:-$TARGET/release/concert-server}
LOADTEST_BIN=$TARGET/release/concert-loadtest
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/*.tsv "$OUT"/*.log "$OUT"/pgbench_* "$OUT"/phases.tsv

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
now() { date +%s.%N; }
PHASE_START=0
phase_begin() { PHASE_START=$(now); log "$1"; }
phase_end() { awk -v n="$1" -v a="$PHASE_START" -v b="$(now)" 'BEGIN { printf "%s\t%.1f\n", n, b - a }' >>"$OUT/phases.tsv"; }

SERVER_PID=""
SERVER_NAME=""
DATABASES=()
TMPDIR_SQLITE=""
cleanup() {
  stop_server || true
  for db in "${DATABASES[@]}"; do
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ -n $TMPDIR_SQLITE ]]; then rm -rf "$TMPDIR_SQLITE"; fi
  # The Redis keys of this run's servers (the Redis-queue sale's line).
  for prefix in "bench$$:" "benchflash$$:"; do
    redis-cli -u "$REDIS_URL" --scan --pattern "$prefix*" 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1 || true
  done
  return 0
}
trap cleanup EXIT

# What is measured: the commit, and whether the tree had uncommitted changes.
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')"

# ---- build ----
if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  phase_begin "build (release)"
  cargo build --release -p bootstrap -p loadtest
  phase_end build
fi
for bin in "$SERVER_BIN" "$LOADTEST_BIN"; do
  [[ -x $bin ]] || { echo "missing $bin (unset BENCH_SKIP_BUILD)" >&2; exit 1; }
done

# ---- PostgreSQL ----
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
psql "$PG/postgres" -qAtc "SELECT 1" >/dev/null

# new_database SUFFIX: creates bench_<time>_<pid>_SUFFIX, sets DB to its name.
new_database() {
  DB="bench_$(date +%s)_$$_$1"
  psql "$PG/postgres" -qAtc "CREATE DATABASE $DB" >/dev/null
  DATABASES+=("$DB")
}

# start_server NAME DATABASE_URL [ENV=VALUE ...]
start_server() {
  local name=$1 url=$2
  shift 2
  SERVER_NAME=$name
  env APP__DATABASE__URL="$url" APP__DATABASE__MAX_CONNECTIONS=10 \
    APP__SERVER__HOST=127.0.0.1 APP__SERVER__PORT="$PORT" \
    APP__ADMIN__API_KEY="$ADMIN_KEY" APP__DEMO__SEED=false \
    RUST_LOG="$SERVER_LOG_LEVEL" "$@" \
    "$SERVER_BIN" >"$OUT/server-$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -sf "$BASE/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "server $name did not become ready; see $OUT/server-$name.log" >&2
  tail -20 "$OUT/server-$name.log" >&2
  exit 1
}

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    # Peak resident memory of the run (the kernel's high-water mark).
    awk -v n="$SERVER_NAME" '/^VmHWM:/ { printf "%s\t%d\n", n, $2 / 1024 }' "/proc/$SERVER_PID/status" \
      >>"$OUT/server-rss.tsv" 2>/dev/null || true
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# Seconds of CPU (user+sys) a process has used so far.
cpu_secs() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# scenario NAME ARGS...: runs the load test, keeps its JSON and text output.
scenario() {
  local name=$1
  shift
  phase_begin "scenario $name"
  local cpu0 rc=0
  cpu0=$(cpu_secs "$SERVER_PID")
  /usr/bin/time -f '%e %U %S' -o "$OUT/$name.time" \
    "$LOADTEST_BIN" --base-url "$BASE" --admin-key "$ADMIN_KEY" --no-progress \
    --setup-concurrency "$SETUP_CONC" --json "$OUT/$name.json" "$@" 2>&1 |
    tee "$OUT/$name.txt" || rc=$?
  printf '%s\t%s\t%s\n' "$name" "$cpu0" "$(cpu_secs "$SERVER_PID")" >>"$OUT/server-cpu.tsv"
  phase_end "$name"
  [[ $rc -eq 0 ]] || FAILED+=("$name")
}
FAILED=()
: >"$OUT/server-cpu.tsv"

# pgbench_min URL: the limit to approach. The MINIMAL hold as one statement
# (a CTE: conditional UPDATE of the seat + INSERT of the hold), and the minimal
# purchase as two such statements (that hold; then one CTE that debits the
# balance, confirms the reservation, marks the seat SOLD and inserts the
# payment), each autocommitted, prepared (-M prepared), on distinct seats (a
# sequence inside the statement hands them out), at each purchase level. No
# queue token, no limits, no history, no idempotency record: less than the
# service must do. Writes pgbench-min.tsv: kind clients transactions tps p50 p99 failed.
pgbench_min() {
  local url=$1
  phase_begin "pgbench: the minimal one-statement hold and hold + pay"
  local nlevels total nusers
  nlevels=$(tr ',' '\n' <<<"$PURCHASE_LEVELS" | grep -c .)
  total=$((MIN_TX * nlevels * 2 + 1000))
  nusers=1000
  local concert sched seat0 user0
  read -r concert sched seat0 user0 < <(psql "$url" -qAt -F' ' <<SQL
WITH c AS (INSERT INTO concerts (title, venue) VALUES ('pgbench-min', 'pgbench') RETURNING id),
     s AS (INSERT INTO schedules (concert_id, starts_at_ms, price, seat_count)
           SELECT id, (extract(epoch FROM now()) * 1000)::bigint + 30::bigint * 86400000, 50000, $total FROM c
           RETURNING id, concert_id)
SELECT concert_id, id FROM s \gset
INSERT INTO seats (schedule_id, seat_number, status, price, version)
  SELECT :id, g, 'AVAILABLE', 50000, 0 FROM generate_series(1, $total) g;
INSERT INTO users (login_id, password_hash, created_at_ms)
  SELECT 'pgmin' || g, 'not-a-password-hash', 0 FROM generate_series(1, $nusers) g;
INSERT INTO balances (user_id, balance, version)
  SELECT id, 1000000000, 0 FROM users WHERE login_id LIKE 'pgmin%';
CREATE SEQUENCE bench_min_seq;
SELECT :concert_id, :id, min(id), (SELECT min(id) FROM users WHERE login_id LIKE 'pgmin%')
  FROM seats WHERE schedule_id = :id;
SQL
  )
  local now_ms="(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
  # The hold: the seat comes from the sequence, its user from the seat.
  local hold_sql="WITH s AS (
  UPDATE seats SET status = 'HELD', hold_expires_at_ms = $now_ms + 300000, version = version + 1
   WHERE id = (SELECT :seat0::bigint + nextval('bench_min_seq') - 1) AND status = 'AVAILABLE'
  RETURNING id, schedule_id, seat_number, price, version)
INSERT INTO reservations (user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms)
  SELECT :user0::bigint + (s.id - :seat0::bigint) % :nusers::bigint, :concert::bigint, s.schedule_id, s.id, s.seat_number, s.version, s.price, 'HELD', $now_ms + 300000, $now_ms FROM s
  RETURNING id, user_id, seat_id, seat_version, price"
  printf '%s;\n' "$hold_sql" >"$OUT/pgbench_min_hold.sql"
  cat >"$OUT/pgbench_min_purchase.sql" <<SQL
$hold_sql \gset r_
WITH b AS (
  UPDATE balances SET balance = balance - :r_price::bigint, version = version + 1
   WHERE user_id = :r_user_id::bigint AND balance >= :r_price::bigint
  RETURNING user_id, balance),
r AS (
  UPDATE reservations SET status = 'CONFIRMED'
   WHERE id = :r_id::bigint AND status = 'HELD' AND expires_at_ms > $now_ms AND EXISTS (SELECT 1 FROM b)
  RETURNING id, seat_id, seat_version),
s AS (
  UPDATE seats SET status = 'SOLD', hold_expires_at_ms = NULL, version = seats.version + 1
    FROM r WHERE seats.id = r.seat_id AND seats.version = r.seat_version
  RETURNING seats.id)
INSERT INTO payments (reservation_id, user_id, amount, balance_after, paid_at_ms)
  SELECT r.id, b.user_id, :r_price::bigint, b.balance, $now_ms FROM r, b, s
  RETURNING id;
SQL
  local kind c tx threads tps failed n p50 p99
  : >"$OUT/pgbench-min.tsv"
  for kind in hold purchase; do
    for c in $(tr ',' ' ' <<<"$PURCHASE_LEVELS"); do
      tx=$(((MIN_TX + c - 1) / c))
      threads=$((c < 2 ? c : 2))
      rm -f "$OUT"/pgbench_minlog_*
      pgbench -n -M prepared -c "$c" -j "$threads" -t "$tx" -f "$OUT/pgbench_min_$kind.sql" \
        -D seat0="$seat0" -D user0="$user0" -D nusers="$nusers" -D concert="$concert" \
        --log --log-prefix="$OUT/pgbench_minlog_" "$url" >"$OUT/pgbench_min_${kind}_c$c.txt" 2>&1 ||
        { cat "$OUT/pgbench_min_${kind}_c$c.txt"; FAILED+=("pgbench-min-$kind-c$c"); continue; }
      tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$OUT/pgbench_min_${kind}_c$c.txt")
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$OUT/pgbench_min_${kind}_c$c.txt")
      read -r n p50 p99 < <(cat "$OUT"/pgbench_minlog_* | awk '{print $3}' | sort -n |
        awk 'function q(p,  i) { i = int(NR * p + 0.5); if (i < 1) i = 1; return a[i] / 1000 }
             { a[NR] = $1 } END { printf "%d %.3f %.3f\n", NR, q(0.50), q(0.99) }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$c" "$n" "$tps" "$p50" "$p99" "${failed:-0}" >>"$OUT/pgbench-min.tsv"
      echo "pgbench-min $kind -c $c: $n transactions, $tps tps, p50 $p50 ms, p99 $p99 ms, failed ${failed:-0}" |
        tee -a "$OUT/pgbench-min.txt"
      rm -f "$OUT"/pgbench_minlog_*
    done
  done
  # Nothing the pgbench rows hold may count against later scenarios' limits.
  psql "$url" -qAtc "UPDATE reservations SET status = 'CANCELLED' WHERE schedule_id = $sched AND status = 'HELD'" >/dev/null
  phase_end pgbench-min
}

# ---- run 1: per-endpoint scenarios and the baselines, on PostgreSQL ----
# reads_with_wrk FILE: scripts/bench-reads.sh against the running server.
reads_with_wrk() {
  phase_begin "$1"
  BASE="$BASE" ADMIN_KEY="$ADMIN_KEY" SEATS="$MAP_SEATS" CONC="$CONC" DURATION="$DURATION" \
    WHAT="health map map-gzip map-304" TSV="$OUT/$1.tsv" \
    "$(dirname "$0")/bench-reads.sh" >"$OUT/$1.txt" 2>&1 || FAILED+=("$1")
  phase_end "$1"
}

if has health || has seat-map || has reads || has hold || has purchase || has pgbench || has pgbench-min || has contend || has queue-poll; then
  new_database micro
  DB1=$DB
  # Large cap: every scenario's users are admitted at once; queue-poll's line
  # of WAITING tokens is far longer than the cap, so its pollers stay WAITING.
  start_server micro "$PG/$DB1" APP__QUEUE__MAX_ACTIVE_PER_CONCERT=1000 \
    APP__QUEUE__ACTIVE_TTL_SECS=3600 APP__QUEUE__ADMIT_INTERVAL_MS=1000
  has health && scenario health health --concurrency "$CONC" --duration-secs "$DURATION"
  has seat-map && scenario seat-map seat-map --concurrency "$CONC" --duration-secs "$DURATION" --seats "$MAP_SEATS"
  has reads && reads_with_wrk reads-pg
  has hold && scenario hold hold --levels "$LEVELS" --holds "$HOLDS" --max-holds-per-user 4
  if has purchase; then
    scenario purchase purchase --levels "$PURCHASE_LEVELS" --purchases "$PURCHASES"
    # The HTTP stack's ceiling at the purchase levels, for the ratios.
    for c in $(tr ',' ' ' <<<"$PURCHASE_LEVELS"); do
      scenario "health-c$c" health --concurrency "$c" --duration-secs "$DURATION"
    done
  fi
  has pgbench-min && pgbench_min "$PG/$DB1"

  if has pgbench; then
    phase_begin "pgbench: the SQL of a hold"
    # The statements the server ran for one hold until 2026-11-30 (read the
    # seat, the queue token and the user's live holds, then the reservation
    # store's transaction), kept to compare with the seed's benchmark figures;
    # a hold is now ONE statement (adapters-db/src/seat_hold.rs) and the
    # issue's baseline is pgbench-min. On distinct seats, users rotating as in
    # the hold scenario (each user at most 4 live holds per level).
    NLEVELS=$(tr ',' '\n' <<<"$LEVELS,10" | sort -un | wc -l)
    TOTAL_SEATS=$((HOLDS * NLEVELS + 100))
    NUSERS=$(((HOLDS + 3) / 4))
    read -r CONCERT SCHED SEAT0 SEATN USER0 USERN < <(psql "$PG/$DB1" -qAt -F' ' <<SQL
WITH c AS (INSERT INTO concerts (title, venue) VALUES ('pgbench', 'pgbench') RETURNING id),
     s AS (INSERT INTO schedules (concert_id, starts_at_ms, price, seat_count)
           SELECT id, (extract(epoch FROM now()) * 1000)::bigint + 30::bigint * 86400000, 50000, $TOTAL_SEATS FROM c
           RETURNING id, concert_id)
SELECT concert_id, id FROM s \gset
INSERT INTO seats (schedule_id, seat_number, status, price, version)
  SELECT :id, g, 'AVAILABLE', 50000, 0 FROM generate_series(1, $TOTAL_SEATS) g;
INSERT INTO users (login_id, password_hash, created_at_ms)
  SELECT 'pgbench' || g, 'not-a-password-hash', 0 FROM generate_series(1, $NUSERS) g;
INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms)
  SELECT 'pgbench-token', min(id), :concert_id, 1, 'ACTIVE', 0, 9000000000000 FROM users WHERE login_id LIKE 'pgbench%';
CREATE SEQUENCE bench_pgbench_seq;
SELECT :concert_id, :id, min(id), max(id),
       (SELECT min(id) FROM users WHERE login_id LIKE 'pgbench%'),
       (SELECT max(id) FROM users WHERE login_id LIKE 'pgbench%')
  FROM seats WHERE schedule_id = :id;
SQL
    )
    if ((SEATN - SEAT0 + 1 != TOTAL_SEATS || USERN - USER0 + 1 != NUSERS)); then
      echo "pgbench set-up: seat or user ids are not contiguous" >&2
      exit 1
    fi
    NOW_MS="(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
    cat >"$OUT/pgbench_hold.sql" <<SQL
SELECT nextval('bench_pgbench_seq') AS n \gset
\set seat :seat0 + :n - 1
\set uid :user0 + (:n % :nusers)
SELECT id, schedule_id, seat_number, status, price, hold_expires_at_ms, version FROM seats WHERE id = :seat \gset s_
SELECT id, token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms FROM queue_tokens WHERE token = 'pgbench-token';
SELECT count(*) FROM reservations WHERE user_id = :uid AND status = 'HELD' AND expires_at_ms > $NOW_MS;
BEGIN;
UPDATE users SET created_at_ms = created_at_ms WHERE id = :uid;
SELECT count(*) FROM reservations WHERE user_id = :uid AND status = 'HELD' AND expires_at_ms > $NOW_MS;
UPDATE seats SET status = 'HELD', hold_expires_at_ms = $NOW_MS + 300000, version = :s_version + 1
  WHERE id = :seat AND version = :s_version
    AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at_ms <= $NOW_MS));
UPDATE reservations SET status = 'EXPIRED'
  WHERE seat_id = :seat AND status = 'HELD' AND expires_at_ms <= $NOW_MS;
INSERT INTO reservations (user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms)
  VALUES (:uid, :concert, :sched, :seat, :s_seat_number, :s_version + 1, :s_price, 'HELD', $NOW_MS + 300000, $NOW_MS)
  RETURNING id, user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms;
COMMIT;
SQL
    : >"$OUT/pgbench.tsv"
    for c in $(tr ',' '\n' <<<"$LEVELS,10" | sort -un); do
      in_use=$(psql "$PG/postgres" -qAtc "SELECT count(*) FROM pg_stat_activity")
      max_conn=$(psql "$PG/postgres" -qAtc "SHOW max_connections")
      if ((in_use + c + 5 > max_conn)); then
        echo "pgbench -c $c skipped: $in_use of $max_conn connections in use" | tee -a "$OUT/pgbench.txt"
        continue
      fi
      tx=$(((HOLDS + c - 1) / c))
      threads=$((c < 2 ? c : 2))
      rm -f "$OUT"/pgbench_log_c$c*
      pgbench -n -M prepared -c "$c" -j "$threads" -t "$tx" -f "$OUT/pgbench_hold.sql" \
        -D seat0="$SEAT0" -D user0="$USER0" -D nusers="$NUSERS" -D sched="$SCHED" -D concert="$CONCERT" \
        --log --log-prefix="$OUT/pgbench_log_c$c" "$PG/$DB1" >"$OUT/pgbench_c$c.txt" 2>&1 ||
        { cat "$OUT/pgbench_c$c.txt"; FAILED+=("pgbench-c$c"); continue; }
      tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$OUT/pgbench_c$c.txt")
      failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$OUT/pgbench_c$c.txt")
      # Per-transaction log: the third field is the latency in microseconds.
      read -r n p50 p95 p99 max < <(cat "$OUT"/pgbench_log_c$c* | awk '{print $3}' | sort -n |
        awk 'function q(p,  i) { i = int(NR * p + 0.5); if (i < 1) i = 1; return a[i] / 1000 }
             { a[NR] = $1 }
             END { printf "%d %.3f %.3f %.3f %.3f\n", NR, q(0.50), q(0.95), q(0.99), a[NR] / 1000 }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$n" "$tps" "$p50" "$p95" "$p99" "$max" "${failed:-0}" >>"$OUT/pgbench.tsv"
      echo "pgbench -c $c: $n holds, $tps tps, p50 $p50 ms, p99 $p99 ms, max $max ms, failed ${failed:-0}" | tee -a "$OUT/pgbench.txt"
      # Users start the next level with no live hold, as in the hold scenario.
      psql "$PG/$DB1" -qAtc "UPDATE reservations SET status = 'CANCELLED' WHERE schedule_id = $SCHED AND status = 'HELD'" >/dev/null
      rm -f "$OUT"/pgbench_log_c$c*
    done
    phase_end pgbench
  fi

  has contend && scenario contend contend --contenders "$CONTENDERS" --rounds "$ROUNDS"
  has queue-poll && scenario queue-poll queue-poll --waiting "$WAITING" --database-url "$PG/$DB1" \
    --concurrency 16 --users 16 --duration-secs "$DURATION"
  stop_server
fi

# ---- run 1b: queue polling with the queue on Redis, beside Redis's own rate ----
if has queue-poll-redis; then
  new_database redisq
  REDIS_PREFIX="bench$$:"
  start_server queue-redis "$PG/$DB" APP__QUEUE__MAX_ACTIVE_PER_CONCERT=1000 \
    APP__QUEUE__ACTIVE_TTL_SECS=3600 APP__QUEUE__ADMIT_INTERVAL_MS=1000 \
    APP__QUEUE__BACKEND=redis APP__REDIS__URL="$REDIS_URL" APP__REDIS__KEY_PREFIX="$REDIS_PREFIX"
  scenario queue-poll-redis queue-poll --waiting "$WAITING" --redis-url "$REDIS_URL" \
    --redis-prefix "$REDIS_PREFIX" --concurrency 16 --users 16 --duration-secs "$DURATION"
  # The same poll under wrk, whose own cost on the two cores is a fraction of
  # the load generator's: what the server's HTTP path adds to Redis's work.
  if has reads; then
    phase_begin reads-redis
    BASE="$BASE" ADMIN_KEY="$ADMIN_KEY" SEATS=10 CONC=16 DURATION="$DURATION" \
      WHAT="health poll-waiting" TSV="$OUT/reads-redis.tsv" \
      "$(dirname "$0")/bench-reads.sh" >"$OUT/reads-redis.txt" 2>&1 || FAILED+=(reads-redis)
    phase_end reads-redis
  fi
  stop_server
  # The ceiling: redis-benchmark running the two reads of a poll (the token's
  # hash and its rank) on a line of the same length, 16 clients.
  phase_begin "redis-benchmark"
  KEY="${REDIS_PREFIX}rb:waiting"
  redis-cli -u "$REDIS_URL" EVAL "for i = 1, tonumber(ARGV[1]) do redis.call('ZADD', KEYS[1], i, 't' .. i) end" 1 "$KEY" "$WAITING" >/dev/null
  redis-cli -u "$REDIS_URL" HSET "${REDIS_PREFIX}rb:token" u 1 c 1 s 50000 st WAITING x "" >/dev/null
  { redis-benchmark -u "$REDIS_URL" -c 16 -n 200000 -q ZRANK "$KEY" t50000
    redis-benchmark -u "$REDIS_URL" -c 16 -n 200000 -q HMGET "${REDIS_PREFIX}rb:token" u c st x
  } 2>&1 | tr '\r' '\n' | grep 'requests per second' | tee "$OUT/redis-benchmark.txt"
  redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null
  phase_end redis-benchmark
fi

# ---- runs 2 and 3: the flash sale ----
if has reads; then
  # The same reads on the embedded default, SQLite.
  TMPDIR_READS=$(mktemp -d /tmp/bench-reads.XXXXXX)
  start_server reads-sqlite "sqlite://$TMPDIR_READS/bench.db" APP__QUEUE__MAX_ACTIVE_PER_CONCERT=1000 \
    APP__QUEUE__ACTIVE_TTL_SECS=3600
  reads_with_wrk reads-sqlite
  stop_server
  rm -rf "$TMPDIR_READS"
fi

FLASH_ENV=(APP__QUEUE__MAX_ACTIVE_PER_CONCERT="$K" APP__QUEUE__ACTIVE_TTL_SECS=30
  APP__QUEUE__ADMIT_INTERVAL_MS=200)
FLASH_ARGS=(flash-sale --users "$USERS" --seats "$SEATS" --queue-cap "$K")
if has flash-pg || has flash-pg-redis; then
  # The buyers are created once (two Argon2 hashes each on the server: most
  # of a sale's set-up) and both PostgreSQL sales start from a copy of that
  # database, so they also start from the same state.
  phase_begin "buyers for the PostgreSQL sales"
  new_database buyers
  BUYERS_DB=$DB
  start_server buyers "$PG/$BUYERS_DB"
  scenario buyers "${FLASH_ARGS[@]}" --users-file "$OUT/buyers-users.json"
  stop_server
  psql "$PG/$BUYERS_DB" -qc "VACUUM ANALYZE"
  phase_end buyers
fi
# copy_of_buyers NAME: a new database (in $DB) copied from the buyers' one.
copy_of_buyers() {
  DB="bench_$(date +%s)_$$_$1"
  psql "$PG/postgres" -qAtc "CREATE DATABASE $DB TEMPLATE $BUYERS_DB" >/dev/null
  DATABASES+=("$DB")
}
BUYERS=(--users-file "$OUT/buyers-users.json")
if has flash-pg; then
  copy_of_buyers flash
  start_server flash-pg "$PG/$DB" "${FLASH_ENV[@]}"
  scenario flash-pg "${FLASH_ARGS[@]}" "${BUYERS[@]}"
  stop_server
fi
if has flash-pg-redis; then
  # The same sale with the queue (joins and polls) on Redis.
  copy_of_buyers flashr
  start_server flash-pg-redis "$PG/$DB" "${FLASH_ENV[@]}" APP__QUEUE__BACKEND=redis \
    APP__REDIS__URL="$REDIS_URL" APP__REDIS__KEY_PREFIX="benchflash$$:"
  scenario flash-pg-redis "${FLASH_ARGS[@]}" "${BUYERS[@]}"
  stop_server
fi
if has flash-sqlite; then
  TMPDIR_SQLITE=$(mktemp -d /tmp/bench-sqlite.XXXXXX)
  start_server flash-sqlite "sqlite://$TMPDIR_SQLITE/bench.db" "${FLASH_ENV[@]}"
  scenario flash-sqlite "${FLASH_ARGS[@]}"
  stop_server
fi

# ---- report ----
log "report"
"$LOADTEST_BIN" report --dir "$OUT" \
  --sizes "users=$USERS seats=$SEATS K=$K map-seats=$MAP_SEATS holds/level=$HOLDS levels=$LEVELS concurrency=$CONC duration=${DURATION}s waiting=$WAITING contenders=$CONTENDERS rounds=$ROUNDS" \
  --machine "$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, shared by load generator, server and database" \
  --commit "$COMMIT"
echo "wrote $OUT/report.md and $OUT/report.json"
if [[ -f $OUT/hold.json && ( -f $OUT/pgbench-min.tsv || -f $OUT/pgbench.tsv ) ]]; then
  python3 "$(dirname "$0")/plot_latency.py" "$OUT" "$OUT/latency.svg"
fi
if ((${#FAILED[@]})); then
  echo "FAILED: ${FAILED[*]}" >&2
  exit 1
fi
