# Sourced by the hold-bench scripts: a fresh PostgreSQL database named
# "$1"_<pid>, migrated by concert-server itself, dropped (with the scratch
# folder $WORK) when the script exits. Defines PG, SECS, TOKENS, DB, URL, WORK
# and `sql` (psql on the new database, stopping at the first error).
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SECS=${SECS:-5}
TOKENS=${TOKENS:-100000}
DB=${1}_$$
URL="$PG/$DB"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

WORK=$(mktemp -d)
cleanup() {
    psql -X -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql() { psql -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }

echo "== database $DB, migrated by concert-server"
psql -X -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "CREATE DATABASE $DB"
APP__DATABASE__URL="$URL" cargo run -q -p bootstrap -- migrate
