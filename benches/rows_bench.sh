#!/usr/bin/env bash
# More rows than the limit (issue 18), on a throwaway local cluster:
#  - the results pane with 100,000 rows loaded page by page: memory (goal < 64 MiB) and the
#    frame time at 200×60 (goal < 1 ms), then the time to fetch the next page of 1,000
#    PostgreSQL rows from the held statement on loopback (goal < 10 ms): benches/rows_paging.rs;
#  - `tdb query --all --csv` of a 1,000,000-row table against `psql --csv` of the same query,
#    both to /dev/null, side by side (and their peak memory).
#   benches/rows_bench.sh      (N=5 runs each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tdb=$PWD/target/release/tdb
. benches/pglocal.sh
echo "loading 1,000,000 rows…"
"$PGBIN/psql" -X -q -c "CREATE TABLE big AS
  SELECT g AS id, 'user' || g || '@example.com' AS email, (g % 100000) / 100.0 AS total,
         (ARRAY['pending','paid','shipped','refunded'])[1 + g % 4] AS status,
         'note, with \"quotes\" ' || g AS note
  FROM generate_series(1, 1000000) g" -c "ALTER TABLE big ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE big"

echo
echo "== the results pane (cargo bench --bench rows_paging)"
TDB_BENCH_PG_URL="postgres://bench@127.0.0.1:$PGPORT/bench?sslmode=disable" \
  cargo bench --quiet --bench rows_paging

home=$(mktemp -d)/home
"$tdb" --home "$home" source add big --type postgres \
  --url "postgres://bench@127.0.0.1:$PGPORT/bench?sslmode=disable" --connection '{"table":"big"}' >/dev/null
n=${N:-5}
sql="SELECT * FROM big ORDER BY id"
# The same bytes, or the comparison means nothing (the table has no booleans or empty
# strings, which tdb writes on purpose unlike psql: see the README).
cmp <("$tdb" --home "$home" query --source big --sql "SELECT * FROM data ORDER BY id" --all --csv) \
    <("$PGBIN/psql" -X --csv -c "$sql") && echo "tdb --all --csv and psql --csv wrote the same bytes"
echo
echo "== every row of 1,000,000 to /dev/null (loopback, $n runs each, interleaved)"
benches/timeit.py --interleave "$n" \
  "tdb query --all --csv" sh -c "exec '$tdb' --home '$home' query --source big --sql 'SELECT * FROM data ORDER BY id' --all --csv > /dev/null" :: \
  "psql --csv (baseline)" sh -c "exec '$PGBIN/psql' -X --csv -c '$sql' > /dev/null" :: \
  "psql --csv, FETCH_COUNT=2000 (bounded memory)" sh -c "exec '$PGBIN/psql' -X --csv -v FETCH_COUNT=2000 -c '$sql' > /dev/null"
