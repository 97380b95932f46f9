#!/usr/bin/env bash
# What does a queue position poll cost with 100,000 people in line?
#
# Creates a fresh PostgreSQL database, migrates it with the service's own
# binary, loads one concert with 100,000 WAITING tokens (seq 1..100000,
# token = md5(seq), one user each), shows the plans of the poll's two reads
# and of a naive count(*), times both with pgbench at 1 and 10 clients,
# then drops the database.
#
#   crates/hold-bench/queue-position.sh            # from the workspace root
#
# Environment: PG (server URL without a database, default
# postgres://postgres@127.0.0.1:5432), SECS (seconds per pgbench run, 5),
# TOKENS (100000), CARGO_TARGET_DIR (default /root/.cache/concert-service/target-bench).
set -euo pipefail

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/concert-service/target-bench}
# shellcheck source=bench-db.sh
source "$(dirname "$0")/bench-db.sh" hold_bench_queue

echo "== one concert, $TOKENS users, $TOKENS WAITING tokens"
sql <<SQL
INSERT INTO concerts (id, title, venue) VALUES (1, 'queue bench', 'nowhere');
INSERT INTO queue_states (concert_id, issued_seq, admitted_seq) VALUES (1, $TOKENS, 0);
-- ux_queue_tokens_live allows one live token per (user, concert): one user per token.
INSERT INTO users (id, login_id, password_hash, created_at_ms)
    SELECT g, 'queue-bench-' || g, 'x', 0 FROM generate_series(1, $TOKENS) g;
INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms)
    SELECT md5(g::text), g, 1, g, 'WAITING', g FROM generate_series(1, $TOKENS) g;
VACUUM ANALYZE;
SQL

# The statements as SeaORM sends them (.one() adds LIMIT 1), with a token from the middle of the line.
MID=$((TOKENS / 2))
echo "== plans"
sql <<SQL
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM queue_tokens WHERE token = md5('$MID') LIMIT 1;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM queue_states WHERE concert_id = 1 LIMIT 1;
-- With one concert the table is one page and the planner reads it whole;
-- with the page scan ruled out it is the primary-key lookup it becomes with many concerts.
SET enable_seqscan = off;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM queue_states WHERE concert_id = 1 LIMIT 1;
RESET enable_seqscan;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
    SELECT count(*) FROM queue_tokens WHERE concert_id = 1 AND status = 'WAITING' AND seq < $MID;
SQL

# One pgbench transaction = one poll. Prepared statements, like sqlx.
cat > "$WORK/position.sql" <<SQL
\set seq random(1, $TOKENS)
SELECT * FROM queue_tokens WHERE token = md5(:seq::text) LIMIT 1;
SELECT * FROM queue_states WHERE concert_id = 1 LIMIT 1;
SQL
cat > "$WORK/naive.sql" <<SQL
\set seq random(1, $TOKENS)
SELECT count(*) FROM queue_tokens WHERE concert_id = 1 AND status = 'WAITING' AND seq < :seq;
SQL

for script in position naive; do
    for clients in 1 10; do
        echo "== pgbench $script.sql, $clients client(s), $SECS s"
        pgbench -n -M prepared -r -c "$clients" -j "$((clients < 2 ? 1 : 2))" -T "$SECS" \
            -f "$WORK/$script.sql" "$URL" 2>&1 |
            grep -E '^(number of transactions actually processed|latency average|tps)|^ +[0-9.]+ +[0-9]+ +(SELECT|\\set)'
    done
done
