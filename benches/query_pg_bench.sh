#!/usr/bin/env bash
# `tdb query --json` of 1,000 rows of a 1,000,000-row table against `psql -c` of the same
# query, in one run on a throwaway local cluster. Target: tdb at most 0.3x psql's wall time,
# peak memory under 20 MiB.
#   benches/query_pg_bench.sh      (N=30 runs each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tdb=$PWD/target/release/tdb
minimal=$(cargo bench --bench pg_minimal --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*pg_minimal[^"]*"' | tail -n 1 | cut -d'"' -f4)
. benches/pglocal.sh
echo "loading 1,000,000 rows…"
"$PGBIN/psql" -X -q -c "CREATE TABLE big AS
  SELECT g AS id, 'user' || g || '@example.com' AS email, (g % 100000) / 100.0 AS total,
         (ARRAY['pending','paid','shipped','refunded'])[1 + g % 4] AS status,
         timestamptz '2026-01-01' + g * interval '1 minute' AS created_at,
         'note, with \"quotes\" ' || g AS note
  FROM generate_series(1, 1000000) g" -c "VACUUM ANALYZE big"
home=$(mktemp -d)/home
"$tdb" --home "$home" source add big --type postgres \
  --url "postgres://bench@127.0.0.1:$PGPORT/bench?sslmode=disable" --connection '{"table":"big"}' >/dev/null
n=${N:-30}
t=benches/timeit.py
sql="SELECT * FROM big LIMIT 1000"
echo
echo "== 1,000 rows of 1,000,000 (loopback, $n runs each, interleaved)"
# Debian's /usr/bin/psql is a Perl wrapper (pg_wrapper) that picks a version and then runs
# the real psql: timed both ways, since `psql` on PATH is what people type.
path_psql=$(command -v psql || true)
groups=("/bin/true (process spawn floor)" /bin/true ::
  "tdb query --json --limit 1000" "$tdb" --home "$home" query --source big --sql "SELECT * FROM data" --limit 1000 --json ::
  "psql -c (real binary, baseline)" "$PGBIN/psql" -X -c "$sql" ::
  "minimal tokio-postgres (floor)" "$minimal" "host=127.0.0.1 port=$PGPORT user=bench dbname=bench" "$sql")
# BEFORE=path/to/an/older/tdb times that build too, in the same interleaved run, so a change's
# effect is measured against the same moment of a shared machine.
if [ -n "${BEFORE:-}" ]; then
  groups+=(:: "before: $BEFORE" "$BEFORE" --home "$home" query --source big --sql "SELECT * FROM data" --limit 1000 --json)
fi
if [ -n "$path_psql" ] && [ "$(readlink -f "$path_psql")" != "$(readlink -f "$PGBIN/psql")" ]; then
  groups+=(:: "psql -c as on PATH ($path_psql)" "$path_psql" -X -c "$sql")
fi
out=$($t --interleave "$n" "${groups[@]}")
echo "$out"
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
tdb_ms=$(median "tdb query"); psql_ms=$(median "psql -c (real"); min_ms=$(median "minimal")
if [ -n "${BEFORE:-}" ]; then
  before_ms=$(median "before: ")
  echo "before - minimal = $(python3 -c "import sys; print(f'{float(sys.argv[1])-float(sys.argv[2]):.2f}')" "$before_ms" "$min_ms") ms"
fi
if echo "$out" | grep -qF "as on PATH"; then
  path_ms=$(median "as on PATH")
  echo "tdb / psql as on PATH = $(ratio "$tdb_ms" "$path_ms")x (target <= 0.30x); minimal / psql as on PATH = $(ratio "$min_ms" "$path_ms")x"
  echo "tdb / the psql binary itself = $(ratio "$tdb_ms" "$psql_ms")x; minimal = $(ratio "$min_ms" "$psql_ms")x (the floor for any client that connects)"
else
  echo "tdb / psql = $(ratio "$tdb_ms" "$psql_ms")x (target <= 0.30x); minimal / psql = $(ratio "$min_ms" "$psql_ms")x"
fi
echo "tdb - minimal = $(python3 -c "import sys; print(f'{float(sys.argv[1])-float(sys.argv[2]):.2f}')" "$tdb_ms" "$min_ms") ms (registry, guard, audit write); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peak memory target < 20 MiB"
