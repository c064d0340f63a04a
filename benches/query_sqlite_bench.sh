#!/usr/bin/env bash
# `tdb query` of a GROUP BY over a 1,000,000-row SQLite file against the `sqlite3` CLI on the
# same file, interleaved in one run. Goal: tdb within 1.1x of sqlite3's wall time.
#   benches/query_sqlite_bench.sh      (N=15 runs each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 CLI (apt-get install sqlite3)" >&2; exit 1; }
cargo build --release --quiet
tdb=$PWD/target/release/tdb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/big.db
echo "creating 1,000,000 rows…"
sqlite3 "$db" "CREATE TABLE big (id INTEGER PRIMARY KEY, status TEXT, total REAL, note TEXT);
  WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000000)
  INSERT INTO big SELECT n, CASE n % 4 WHEN 0 THEN 'pending' WHEN 1 THEN 'paid'
    WHEN 2 THEN 'shipped' ELSE 'refunded' END, (n % 100000) / 100.0, 'note ' || n FROM g;"
home=$work/home
"$tdb" --home "$home" source add big --type sqlite --path "$db" --table big >/dev/null
sql="SELECT status, count(*) AS n, sum(total) AS total, avg(length(note)) AS note_len FROM big GROUP BY status ORDER BY status"
# Both print the same four rows; checked once before timing.
"$tdb" --home "$home" query --source big --sql "${sql//FROM big/FROM data}" --csv
n=${N:-15}
out=$(benches/timeit.py --interleave "$n" \
  "tdb query --csv (GROUP BY of 1M rows)" "$tdb" --home "$home" query --source big --sql "${sql//FROM big/FROM data}" --csv :: \
  "sqlite3 -csv (baseline)" sqlite3 -csv "$db" "$sql")
echo
echo "== GROUP BY over 1,000,000 rows ($n runs each, interleaved)"
echo "$out"
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
python3 -c "import sys; print(f'tdb / sqlite3 = {float(sys.argv[1])/float(sys.argv[2]):.3f}x (goal <= 1.1x)')" \
  "$(median "tdb query")" "$(median "sqlite3 -csv")"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
