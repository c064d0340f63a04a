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
echo "== 1,000 rows of 1,000,000 (loopback, $n runs each)"
$t "/bin/true (process spawn floor)" "$n" /bin/true
tdb_line=$($t "tdb query --json --limit 1000" "$n" "$tdb" --home "$home" query --source big --sql "SELECT * FROM data" --limit 1000 --json)
psql_line=$($t "psql -c (baseline)" "$n" "$PGBIN/psql" -X -c "$sql")
min_line=$($t "minimal tokio-postgres (floor)" "$n" "$minimal" "host=127.0.0.1 port=$PGPORT user=bench dbname=bench" "$sql")
echo "$tdb_line"; echo "$psql_line"; echo "$min_line"
ratio=$(python3 -c "import sys,re; a=float(re.search(r'median +([0-9.]+)',sys.argv[1]).group(1)); b=float(re.search(r'median +([0-9.]+)',sys.argv[2]).group(1)); print(f'{a/b:.2f}')" "$tdb_line" "$psql_line")
floor=$(python3 -c "import sys,re; a=float(re.search(r'median +([0-9.]+)',sys.argv[1]).group(1)); b=float(re.search(r'median +([0-9.]+)',sys.argv[2]).group(1)); print(f'{a/b:.2f}')" "$min_line" "$psql_line")
echo "tdb / psql = ${ratio}x (target <= 0.30x); minimal / psql = ${floor}x; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peak memory target < 20 MiB"
