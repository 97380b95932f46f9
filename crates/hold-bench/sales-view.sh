#!/usr/bin/env bash
# What does the admin sales view cost with 100,000 tokens in line?
#
# Creates a fresh PostgreSQL database, migrates it with the service's own
# binary, loads one concert with 2 schedules x 2,000 seats (1,500 sold with
# CONFIRMED reservations, 300 under live holds per schedule) and 100,000 queue
# tokens (99,900 WAITING, 100 ACTIVE), shows the plans of the view's reads
# (the seats-and-revenue statement, the queue row, the ACTIVE count) and
# times the three together with pgbench, then drops the database.
#
#   crates/hold-bench/sales-view.sh            # from the workspace root
#
# Environment: PG (server URL without a database, default
# postgres://postgres@127.0.0.1:5432), SECS (seconds per pgbench run, 5),
# TOKENS (100000).
set -euo pipefail

# shellcheck source=bench-db.sh
source "$(dirname "$0")/bench-db.sh" hold_bench_sales

NOW=$(date +%s%3N)
FAR=$((NOW + 3600000))
echo "== one concert, 2 x 2000 seats, $TOKENS users and queue tokens"
sql <<SQL
INSERT INTO concerts (id, title, venue, sale_opens_at_ms, max_tickets_per_user) VALUES (1, 'sales bench', 'nowhere', 0, 4);
INSERT INTO queue_states (concert_id, issued_seq, admitted_seq) VALUES (1, $TOKENS, 100);
INSERT INTO schedules (id, concert_id, starts_at_ms, price, seat_count) VALUES (1, 1, $FAR, 50000, 2000), (2, 1, $FAR + 1, 70000, 2000);
INSERT INTO users (id, login_id, password_hash, created_at_ms)
    SELECT g, 'sales-bench-' || g, 'x', 0 FROM generate_series(1, $TOKENS) g;
-- Seats 1..1500 SOLD, 1501..1800 HELD (live), the rest AVAILABLE.
INSERT INTO seats (schedule_id, seat_number, status, price, hold_expires_at_ms, version)
    SELECT s, n, CASE WHEN n <= 1500 THEN 'SOLD' WHEN n <= 1800 THEN 'HELD' ELSE 'AVAILABLE' END,
           CASE s WHEN 1 THEN 50000 ELSE 70000 END, CASE WHEN n > 1500 AND n <= 1800 THEN $FAR END, 1
    FROM generate_series(1, 2) s, generate_series(1, 2000) n;
INSERT INTO reservations (user_id, concert_id, schedule_id, seat_id, seat_number, seat_version, price, status, expires_at_ms, created_at_ms)
    SELECT (id % $TOKENS) + 1, 1, schedule_id, id, seat_number, 1, price,
           CASE status WHEN 'SOLD' THEN 'CONFIRMED' ELSE 'HELD' END, COALESCE(hold_expires_at_ms, 0), 0
    FROM seats WHERE status <> 'AVAILABLE';
INSERT INTO queue_tokens (token, user_id, concert_id, seq, status, issued_at_ms, expires_at_ms)
    SELECT md5(g::text), g, 1, g, CASE WHEN g <= 100 THEN 'ACTIVE' ELSE 'WAITING' END, g,
           CASE WHEN g <= 100 THEN $FAR END
    FROM generate_series(1, $TOKENS) g;
VACUUM ANALYZE;
SQL

# The statements as the service sends them.
SALES="SELECT s.id AS schedule_id, CAST(s.seat_count AS BIGINT) AS total, \
(SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id AND t.status = 'HELD' AND t.hold_expires_at_ms > $NOW) AS held, \
(SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id AND t.status = 'SOLD') AS sold, \
(SELECT CAST(COALESCE(SUM(r.price), 0) AS BIGINT) FROM reservations r WHERE r.schedule_id = s.id AND r.status = 'CONFIRMED') AS revenue \
FROM schedules s WHERE s.concert_id = 1 ORDER BY s.starts_at_ms, s.id"
STATE="SELECT * FROM queue_states WHERE concert_id = 1 LIMIT 1"
ACTIVE="SELECT COUNT(*) FROM queue_tokens WHERE concert_id = 1 AND status = 'ACTIVE' AND expires_at_ms > $NOW"

echo "== the view's figures"
sql -c "$SALES"
echo "== plans"
for q in "$SALES" "$STATE" "$ACTIVE"; do
    sql -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $q"
done

echo "== pgbench: one transaction = the whole view (3 statements), $SECS s"
printf '%s;\n%s;\n%s;\n' "$SALES" "$STATE" "$ACTIVE" > "$WORK/view.sql"
for clients in 1 4; do
    echo "-- $clients client(s)"
    pgbench -n -M prepared -T "$SECS" -c "$clients" -j "$clients" -f "$WORK/view.sql" "$URL" \
        | grep -E 'latency average|^tps'
done
