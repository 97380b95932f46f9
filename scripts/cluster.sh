#!/usr/bin/env bash
# N concert-server instances behind nginx, on PostgreSQL + Redis, measured
# through the balancer for N = 1, 2, 3 (docs/scaling.md has the results).
#
#   scripts/cluster.sh                                     # the issue's sizes
#   CLUSTER_USERS=2000 CLUSTER_SEATS=200 scripts/cluster.sh   # a quicker sale
#
# For each N: a fresh database (bench_*), N release instances on ports
# 18081.. (the queue on Redis, one key prefix per run; admitter in every
# instance), nginx on 18080 (installed with apt-get when missing; its own
# config, pid and logs in a temp dir), then
#   purchase  the per-request scenario (CLUSTER_PURCHASE_SCENARIO, below)
#   flash     the sale: CLUSTER_USERS join at once, buy one seat each, and
#             the loadtest's invariant check (no seat sold twice, sold =
#             payments <= seats, balances = charges - payments) through the LB
# and per process the CPU seconds used (instances, nginx, postgres, redis,
# the load generator), so it shows what saturates. Everything is stopped and
# the databases dropped at the end. Output: target/cluster/ (per N: the
# loadtest's JSON and text, the CPU table; summary.md for all N).
#
# Environment:
#   CLUSTER_NS="1 2 3"                 instance counts to run
#   CLUSTER_USERS=10000 CLUSTER_SEATS=1000 CLUSTER_QUEUE_CAP=500   the sale
#   CLUSTER_HOLDS=1000 CLUSTER_LEVELS=8,32   purchases (or holds) per level, levels
#   CLUSTER_PURCHASE_SCENARIO=purchase `purchase` (admitted users: hold, then
#                                      pay) or `hold` (holds on distinct seats)
#   CLUSTER_SCENARIOS="purchase flash"
#   CLUSTER_REDIS_URL=redis://127.0.0.1:6379  (a redis+cluster:// URL works too)
#   CLUSTER_PG_URL=postgres://postgres@127.0.0.1:5432
#   CLUSTER_LB_PORT=18080 CLUSTER_APP_PORT=18081   (instances on 18081, 18082, ...)
#   CLUSTER_DB_POOL=10                 connections per instance
#   CLUSTER_SETUP_CONCURRENCY=4        users created at once (Argon2 on the server)
#   CLUSTER_SKIP_BUILD=1               use the binaries already built
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

NS=${CLUSTER_NS:-"1 2 3"}
USERS=${CLUSTER_USERS:-10000}
SEATS=${CLUSTER_SEATS:-1000}
K=${CLUSTER_QUEUE_CAP:-500}
HOLDS=${CLUSTER_HOLDS:-1000}
LEVELS=${CLUSTER_LEVELS:-8,32}
PURCHASE=${CLUSTER_PURCHASE_SCENARIO:-purchase}
SCENARIOS=${CLUSTER_SCENARIOS:-"purchase flash"}
REDIS_URL=${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379}
PG=${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432}
LB_PORT=${CLUSTER_LB_PORT:-18080}
APP_PORT=${CLUSTER_APP_PORT:-18081}
POOL=${CLUSTER_DB_POOL:-10}
SETUP_CONC=${CLUSTER_SETUP_CONCURRENCY:-4}
ADMIN_KEY="cluster-admin-$RANDOM$RANDOM"
BASE="http://127.0.0.1:$LB_PORT"

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$ROOT/target/cluster
SERVER_BIN=$TARGET/release/concert-server
LOADTEST_BIN=$TARGET/release/concert-loadtest
mkdir -p "$OUT"

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }

APP_PIDS=()
NGINX_PID=""
DATABASES=()
PREFIXES=()
LBDIR=$(mktemp -d /tmp/concert-lb.XXXXXX)
stop_all() {
  for pid in "${APP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${APP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  APP_PIDS=()
  if [[ -n $NGINX_PID ]]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
    cp "$LBDIR/error.log" "$OUT/nginx-error-$(date +%H%M%S).log" 2>/dev/null || true
  fi
}
cleanup() {
  stop_all
  for db in "${DATABASES[@]}"; do
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  # Only this run's keys (never FLUSHALL: the Redis may be shared); on a
  # cluster each node deletes the keys it holds, one DEL per key.
  for node in $(redis_nodes); do
    for p in "${PREFIXES[@]}"; do
      redis-cli -u "$node" --scan --pattern "${p}*" | awk '{ print "DEL " $0 }' | redis-cli -u "$node" >/dev/null || true
    done
  done
  rm -rf "$LBDIR"
  return 0
}
trap cleanup EXIT

# ---- tools ----
if ! command -v nginx >/dev/null; then
  log "installing nginx-light"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [[ -z ${CLUSTER_SKIP_BUILD:-} ]]; then
  log "build (release)"
  cargo build --release -p bootstrap -p loadtest
fi
for bin in "$SERVER_BIN" "$LOADTEST_BIN"; do
  [[ -x $bin ]] || { echo "missing $bin (unset CLUSTER_SKIP_BUILD)" >&2; exit 1; }
done
psql "$PG/postgres" -qAtc "SELECT 1" >/dev/null

# ---- the pieces ----
# cpu_of PID...: user+sys CPU seconds the processes (and their waited-for
# children) used so far.
cpu_of() {
  local hz total=0 pid
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    total=$(awk -v t="$total" -v hz="$hz" '{ printf "%.2f", t + ($14 + $15 + $16 + $17) / hz }' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}
pids_of() { pgrep -d' ' -x "$1" || true; }
# postgres backends of this run's database only would need pg_stat_activity;
# all postgres processes are counted (other users of the server add noise).
snapshot_cpu() {
  printf 'instances\t%s\n' "$(cpu_of "${APP_PIDS[@]}")"
  # shellcheck disable=SC2046
  printf 'nginx\t%s\n' "$(cpu_of "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true))"
  # shellcheck disable=SC2046
  printf 'postgres\t%s\n' "$(cpu_of $(pids_of postgres))"
  # shellcheck disable=SC2046
  printf 'redis\t%s\n' "$(cpu_of $(pids_of redis-server))"
  # shellcheck disable=SC2046
  printf 'loadgen\t%s\n' "$(cpu_of $(pids_of concert-loadtes))"
}

start_instances() {
  local n=$1 db=$2 prefix=$3 i port
  for ((i = 0; i < n; i++)); do
    port=$((APP_PORT + i))
    env APP__DATABASE__URL="$PG/$db" APP__DATABASE__MAX_CONNECTIONS="$POOL" \
      APP__SERVER__HOST=127.0.0.1 APP__SERVER__PORT="$port" \
      APP__ADMIN__API_KEY="$ADMIN_KEY" APP__DEMO__SEED=false \
      APP__QUEUE__BACKEND=redis APP__REDIS__URL="$REDIS_URL" APP__REDIS__KEY_PREFIX="$prefix" \
      APP__QUEUE__MAX_ACTIVE_PER_CONCERT="$K" APP__QUEUE__ACTIVE_TTL_SECS=30 \
      APP__QUEUE__ADMIT_INTERVAL_MS=200 APP__LIMITS__TRUSTED_PROXIES=127.0.0.1 \
      RUST_LOG=warn "$SERVER_BIN" >"$OUT/n$n/server-$i.log" 2>&1 &
    APP_PIDS+=($!)
    # One at a time: the first migrates the database.
    for _ in $(seq 300); do
      curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
      kill -0 "${APP_PIDS[-1]}" 2>/dev/null || { tail -20 "$OUT/n$n/server-$i.log" >&2; exit 1; }
      sleep 0.2
    done
  done
}

start_nginx() {
  local n=$1 i servers=""
  for ((i = 0; i < n; i++)); do
    servers+="    server 127.0.0.1:$((APP_PORT + i)) max_fails=3 fail_timeout=5s;"$'\n'
  done
  # As docker/nginx.conf: least_conn, keep-alive to the instances, no retry
  # of a request that may have had an effect. One worker: the box has 2 cores.
  cat >"$LBDIR/nginx.conf" <<CONF
worker_processes 1;
# Every client connection costs two (client + upstream): 10,000 buyers at once
# need more than the 8,192 an earlier run had ("worker_connections are not
# enough, reusing connections": idle keep-alives closed under the generator).
worker_rlimit_nofile 65536;
pid $LBDIR/nginx.pid;
error_log $LBDIR/error.log warn;
events { worker_connections 32768; }
http {
  access_log off;
  client_body_temp_path $LBDIR/body;
  proxy_temp_path $LBDIR/proxy;
  fastcgi_temp_path $LBDIR/fastcgi;
  uwsgi_temp_path $LBDIR/uwsgi;
  scgi_temp_path $LBDIR/scgi;
  upstream concert {
    least_conn;
$servers    keepalive 128;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://concert;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
CONF
  "$NGINX" -t -q -c "$LBDIR/nginx.conf" -p "$LBDIR" -g 'daemon off;' 2>&1 | grep -v 'could not open error log' >&2 || true
  "$NGINX" -c "$LBDIR/nginx.conf" -p "$LBDIR" -g 'daemon off;' 2>"$LBDIR/stderr.log" &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -sf "$BASE/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nginx did not answer on $LB_PORT" >&2
  cat "$LBDIR/stderr.log" "$LBDIR/error.log" >&2 2>/dev/null || true
  exit 1
}

# Redis commands by name, summed over the nodes (every node of a cluster).
redis_nodes() {
  if [[ $REDIS_URL == redis+cluster://* ]]; then
    local hosts=${REDIS_URL#redis+cluster://}
    hosts=${hosts##*@}
    tr ',' '\n' <<<"${hosts%/}" | sed 's|^|redis://|'
  else
    echo "$REDIS_URL"
  fi
}
redis_commandstats() {
  local node
  for node in $(redis_nodes); do
    redis-cli -u "$node" INFO commandstats | tr -d '\r' |
      sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\).*/\1 \2/p'
  done | awk '{ c[$1] += $2 } END { for (k in c) print k, c[k] }' | sort
}
# The run's database: commits and rows written/read (pg_stat_database).
db_stats() {
  sleep 1 # backends report their counters at transaction end, in batches
  psql "$PG/$DB" -qAt -F' ' -c "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched, tup_returned
    FROM pg_stat_database WHERE datname = current_database()"
}

# sample_cpu FILE: about every second, the cores each group used since the
# last sample: time, instances, nginx, postgres, redis, load generator, the
# whole box (/proc/stat: every process, other sessions' included). Divided by
# the real interval (under load one sample takes longer than a second).
sample_cpu() {
  local file=$1 prev now
  box() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat; }
  snap() { { printf 'at\t%s\n' "$(date +%s.%N)"; snapshot_cpu; printf 'box\t%s\n' "$(box)"; } | awk '{ printf "%s ", $2 }'; }
  prev=$(snap)
  while sleep 1; do
    now=$(snap)
    echo "$prev $now" |
      awk '{ d = $8 - $1; printf "%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", $8, ($9-$2)/d, ($10-$3)/d, ($11-$4)/d, ($12-$5)/d, ($13-$6)/d, ($14-$7)/d }' >>"$file"
    prev=$now
  done
}

# measure N NAME ARGS...: one loadtest run through the balancer, with the CPU
# each tier used during it.
measure() {
  local n=$1 name=$2 rc=0 t0 t1
  shift 2
  log "N=$n: $name (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  cut -d' ' -f1-3 /proc/loadavg >"$OUT/n$n/$name.loadavg"
  snapshot_cpu >"$OUT/n$n/$name.cpu0"
  redis_commandstats >"$OUT/n$n/$name.redis0"
  db_stats >"$OUT/n$n/$name.db0"
  t0=$(date +%s.%N)
  sample_cpu "$OUT/n$n/$name.timeline" &
  local sampler=$!
  /usr/bin/time -f '%e %U %S' -o "$OUT/n$n/$name.loadgen" \
    "$LOADTEST_BIN" --base-url "$BASE" --admin-key "$ADMIN_KEY" --no-progress \
    --setup-concurrency "$SETUP_CONC" --json "$OUT/n$n/$name.json" "$@" 2>&1 |
    tee "$OUT/n$n/$name.txt" || rc=$?
  t1=$(date +%s.%N)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  snapshot_cpu >"$OUT/n$n/$name.cpu1"
  redis_commandstats >"$OUT/n$n/$name.redis1"
  db_stats >"$OUT/n$n/$name.db1"
  # Deltas over the whole run (set-up included): Redis calls by command, and
  # commits / inserted / updated / deleted / fetched / returned rows.
  awk 'NR == FNR { a[$1] = $2; next } $2 - a[$1] > 0 { print $1, $2 - a[$1] }' \
    "$OUT/n$n/$name.redis0" "$OUT/n$n/$name.redis1" >"$OUT/n$n/$name.redis"
  paste -d' ' "$OUT/n$n/$name.db0" "$OUT/n$n/$name.db1" |
    awk '{ printf "commits %d\ninserted %d\nupdated %d\ndeleted %d\nfetched %d\nreturned %d\n", $7-$1, $8-$2, $9-$3, $10-$4, $11-$5, $12-$6 }' >"$OUT/n$n/$name.db"
  echo "Redis calls: $(tr '\n' ' ' <"$OUT/n$n/$name.redis")"
  echo "Database: $(tr '\n' ' ' <"$OUT/n$n/$name.db")"
  awk -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    'NR == FNR { a[$1] = $2; next } { printf "%s\t%.1f\t%.0f%%\n", $1, $2 - a[$1], 100 * ($2 - a[$1]) / w }' \
    "$OUT/n$n/$name.cpu0" "$OUT/n$n/$name.cpu1" | grep -v '^loadgen' >"$OUT/n$n/$name.cpu"
  # The load generator has exited by now: its CPU from /usr/bin/time.
  read -r _ lu ls <"$OUT/n$n/$name.loadgen"
  awk -v u="$lu" -v s="$ls" -v a="$t0" -v b="$t1" 'BEGIN { printf "loadgen\t%.1f\t%.0f%%\n", u + s, 100 * (u + s) / (b - a) }' >>"$OUT/n$n/$name.cpu"
  printf 'wall\t%.1f\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$OUT/n$n/$name.cpu"
  echo "CPU seconds during $name (whole run incl. untimed set-up; % of one core):"
  cat "$OUT/n$n/$name.cpu"
  [[ $rc -eq 0 ]] || FAILED+=("n$n-$name")
}
FAILED=()

for n in $NS; do
  mkdir -p "$OUT/n$n"
  rm -f "$OUT/n$n"/*
  DB="bench_$(date +%s)_$$_n$n"
  psql "$PG/postgres" -qAtc "CREATE DATABASE $DB" >/dev/null
  DATABASES+=("$DB")
  PREFIX="cluster$$n$n:"
  PREFIXES+=("$PREFIX")
  log "N=$n: instances on $APP_PORT.., nginx on $LB_PORT, database $DB"
  start_instances "$n" "$DB" "$PREFIX"
  start_nginx "$n"
  if has purchase; then
    case $PURCHASE in
      hold) measure "$n" purchase hold --levels "$LEVELS" --holds "$HOLDS" --max-holds-per-user 4 ;;
      *) measure "$n" purchase "$PURCHASE" --levels "$LEVELS" --purchases "$HOLDS" ;;
    esac
  fi
  has flash && measure "$n" flash flash-sale --users "$USERS" --seats "$SEATS" --queue-cap "$K"
  stop_all
done

# ---- summary ----
python3 - "$OUT" "$NS" "$PURCHASE" <<'PY' | tee "$OUT/summary.md"
import json, os, sys
out, ns, purchase = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def load(n, name):
    p = os.path.join(out, f"n{n}", f"{name}.json")
    return json.load(open(p)) if os.path.exists(p) else None
def cpu(n, name):
    p = os.path.join(out, f"n{n}", f"{name}.cpu")
    rows = {}
    if os.path.exists(p):
        for line in open(p):
            f = line.split("\t")
            rows[f[0]] = f[1].strip()
    return rows
print(f"## {purchase} through the balancer\n")
print("| N | concurrency | ok/s | p50 ms | p99 ms | errors |")
print("|---:|---:|---:|---:|---:|---:|")
for n in ns:
    d = load(n, "purchase")
    if not d:
        continue
    for lvl in d["result"].get("levels", []):
        if "ordersPerSec" in lvl:
            print(f"| {n} | {lvl['concurrency']} | **{lvl['ordersPerSec']:.0f} orders** | {lvl['purchaseP50Ms']:.1f} | {lvl['purchaseP99Ms']:.1f} | {lvl['purchases'] - lvl['orders']} |")
        for e in lvl["endpoints"]:
            errs = sum(e["errors"].values())
            print(f"| {n} | {lvl['concurrency']} | {e['okPerSec']:.0f} | {e['p50Ms']:.1f} | {e['p99Ms']:.1f} | {errs} |")
print("\n## the sale through the balancer\n")
print("| N | users / seats | timed phase s | sold | join p50/p99 ms | poll req/s, p50/p99 ms | hold p50 ms | pay p50 ms | 503s | invariants |")
print("|---:|---|---:|---:|---|---|---:|---:|---:|---|")
for n in ns:
    d = load(n, "flash")
    if not d:
        continue
    r = d["result"]
    ep = {e["endpoint"]: e for e in r["endpoints"]}
    j, p = ep.get("POST /queue/tokens"), ep.get("GET /queue/tokens/current")
    h, pay = ep.get("POST /reservations"), ep.get("POST /payments")
    e503 = sum(v for e in r["endpoints"] for k, v in e["errors"].items() if k.startswith("503"))
    inv = r.get("invariants", {})
    ok = f"hold ({inv.get('violations')} violations)" if d.get("passed") else f"VIOLATED ({inv.get('violations')})"
    sold = inv.get("confirmedReservations", "?")
    f = lambda e, k: f"{e[k]:.0f}" if e else "-"
    print(f"| {n} | {r['users']} / {r['seats']} | {r['timedPhaseSecs']:.1f} | {sold} | {f(j,'p50Ms')}/{f(j,'p99Ms')} | "
          f"{f(p,'requestsPerSec')}, {f(p,'p50Ms')}/{f(p,'p99Ms')} | {f(h,'p50Ms')} | {f(pay,'p50Ms')} | {e503} | {ok} |")
print("\n## The busiest seconds of each sale: cores used\n")
print("The 5 samples with the most load-generator CPU (the timed phase, not the set-up's")
print("Argon2), averaged; `box` counts every process on the machine, other sessions' included")
print("(2 cores = 2.00).\n")
print("| N | instances | nginx | postgres | redis | load generator | box | load avg before |")
print("|---:|---:|---:|---:|---:|---:|---:|---|")
for n in ns:
    p = os.path.join(out, f"n{n}", "flash.timeline")
    if not os.path.exists(p):
        continue
    rows = [list(map(float, l.split("\t")[1:])) for l in open(p) if l.strip()]
    top = sorted(rows, key=lambda r: r[4], reverse=True)[:5]
    if not top:
        continue
    mean = [sum(r[i] for r in top) / len(top) for i in range(6)]
    la = open(os.path.join(out, f"n{n}", "flash.loadavg")).read().strip()
    print(f"| {n} | " + " | ".join(f"{v:.2f}" for v in mean) + f" | {la} |")
print("\n## CPU seconds per process group during each run (incl. untimed set-up)\n")
print("| N | run | wall s | instances | nginx | postgres | redis | load generator |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for n in ns:
    for name in ("purchase", "flash"):
        c = cpu(n, name)
        if c:
            print(f"| {n} | {name} | {c.get('wall','')} | {c.get('instances','')} | {c.get('nginx','')} | {c.get('postgres','')} | {c.get('redis','')} | {c.get('loadgen','')} |")
PY
echo "wrote $OUT/summary.md"
if ((${#FAILED[@]})); then
  echo "FAILED: ${FAILED[*]}" >&2
  exit 1
fi
