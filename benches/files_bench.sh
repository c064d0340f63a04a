#!/usr/bin/env bash
# File kinds through the real binary (release build), each paired in one run with a baseline
# on the same file, interleaved run by run (benches/timeit.py), process start included:
#
#   1. Parquet, 1,000,000 rows: a GROUP BY through `tdb query` vs DuckDB's own Python package
#      (the very version tdb loads) reading the file directly. Goal <= 1.0x.
#   2. CSV, 1,000,000 rows: the first query (import included) vs the sqlite3 CLI's `.import`
#      + the query, and vs DuckDB reading the CSV directly. Goal <= 1.0x DuckDB.
#   3. The same CSV warm. Goal <= 50 ms.
#   4. CSV, 10,000,000 rows (~1 GB): first and warm query, peak memory. Goal <= 300 MiB,
#      flat in file size (SKIP_1GB=1 leaves it out: it takes a few minutes).
#
#   benches/files_bench.sh        N=15 runs each (N=5 for the first CSV queries)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { echo "files_bench: needs the sqlite3 CLI" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "files_bench: needs GNU time at /usr/bin/time" >&2; exit 1; }
cargo build --release --quiet
tdb=$PWD/target/release/tdb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The baseline: DuckDB's Python package of the very version tdb loads, in a venv of its own.
venv=target/bench-venv
if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb==1.5.6
fi
py=$venv/bin/python
n=${N:-15}
first_n=${FIRST_N:-5}

# ratio LABEL_A LABEL_B GOAL: the medians' ratio from timeit's output in $out.
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
ratio() {
  python3 -c "import sys; print(f'{sys.argv[1]}: {float(sys.argv[2])/float(sys.argv[3]):.3f}x ({sys.argv[4]})')" \
    "$1" "$(median "$2")" "$(median "$3")" "$4"
}
load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }

# gen.py parquet|csv ROWS PATH: the bench's files. The CSV is as exports have them: quoted
# text with commas and quotes, empty fields, timestamps.
cat > "$work/gen.py" <<'PY'
import duckdb, sys
kind, rows, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "parquet":
    duckdb.sql(f"""COPY (SELECT i AS id, 'user' || i || '@example.com' AS email,
      (['new','paid','shipped','cancelled','refunded'])[1 + i % 5] AS status,
      CAST(((i * 37) % 100000) / 100.0 AS DECIMAL(10,2)) AS total,
      TIMESTAMP '2024-01-01' + to_seconds(i * 13) AS created_at FROM range({rows}) r(i))
      TO '{path}' (FORMAT parquet)""")
else:
    duckdb.sql(f"""COPY (SELECT i AS id, 1 + (i * 7919) % 50000 AS customer_id,
      ((i * 37) % 10000000) / 100.0 AS total,
      (['pending','paid','shipped','delivered','cancelled','refunded'])[1 + i % 6] AS status,
      (['US','DE','FR','GB','JP','BR'])[1 + i % 6] AS country,
      'user' || (i % 1000) || '@example.com' AS email,
      TIMESTAMP '2023-01-01' + to_seconds(i * 7 % 94000000) AS created_at,
      (['', 'Leave at the door, ring twice', 'Customer said "urgent"', 'gift wrap', 'n/a'])[1 + i % 5] AS note
      FROM range({rows}) r(i)) TO '{path}' (HEADER, QUOTE '"')""")
PY
echo "creating the files…"
"$py" "$work/gen.py" parquet 1000000 "$work/orders.parquet"
"$py" "$work/gen.py" csv 1000000 "$work/orders.csv"

# --- 1. Parquet ------------------------------------------------------------------------
home=$work/home
"$tdb" --home "$home" source add orders --type parquet --path "$work/orders.parquet" >/dev/null
sql="SELECT status, count(*) AS n, sum(total) AS total FROM data GROUP BY status ORDER BY status"
"$tdb" --home "$home" query --source orders --sql "$sql" --csv
# direct_py OUT READER FILE: the baseline, DuckDB answering $sql straight from FILE.
direct_py() {
  cat > "$1" <<PY
import duckdb
con = duckdb.connect()
con.sql("CREATE VIEW data AS SELECT * FROM $2('$3')")
print(con.sql("$sql").fetchall())
PY
}
direct_py "$work/direct.py" read_parquet "$work/orders.parquet"
out=$(benches/timeit.py --interleave "$n" \
  "tdb query --csv (Parquet GROUP BY, 1M rows)" "$tdb" --home "$home" query --source orders --sql "$sql" --csv :: \
  "python duckdb 1.5.6, same file (baseline)" "$py" "$work/direct.py")
echo
echo "== 1. Parquet GROUP BY over 1,000,000 rows ($n runs each, interleaved)"
echo "$out"
ratio "tdb / duckdb" "tdb query" "python duckdb" "goal <= 1.0x"
load

# --- 2. and 3. CSV, 1,000,000 rows -----------------------------------------------------
csv=$work/orders.csv
"$tdb" --home "$home" source add orders_csv --type csv --path "$csv" >/dev/null
"$tdb" --home "$home" query --source orders_csv --sql "$sql" --csv
cache=$home/cache
cat > "$work/first_tdb.sh" <<SH
rm -rf "$cache"
exec "$tdb" --home "$home" query --source orders_csv --sql "$sql" --csv
SH
cat > "$work/first_sqlite.sh" <<SH
rm -f "$work/s.db"
exec sqlite3 "$work/s.db" ".import --csv $csv data" "$sql"
SH
direct_py "$work/csv_direct.py" read_csv "$csv"
cat "$csv" >/dev/null # every side starts from the page cache
out=$(benches/timeit.py --interleave "$first_n" \
  "tdb query: first (import + GROUP BY)" sh "$work/first_tdb.sh" :: \
  "sqlite3 .import + the query" sh "$work/first_sqlite.sh" :: \
  "python duckdb 1.5.6 on the CSV directly" "$py" "$work/csv_direct.py")
echo
echo "== 2. CSV, 1,000,000 rows ($(($(stat -c %s "$csv") / 1048576)) MiB): the first query, import included ($first_n runs each, interleaved)"
echo "$out"
ratio "tdb / sqlite3" "tdb query: first" "sqlite3 .import" "today 0.35x with the SQLite import"
ratio "tdb / duckdb" "tdb query: first" "python duckdb" "goal <= 1.0x"
load
"$tdb" --home "$home" query --source orders_csv --sql "$sql" --csv >/dev/null
echo "cache: $(du -b "$cache"/*.parquet | cut -f1) bytes"
out=$(benches/timeit.py --interleave "$n" \
  "tdb query: warm GROUP BY" "$tdb" --home "$home" query --source orders_csv --sql "$sql" --csv :: \
  "python duckdb 1.5.6 on the CSV directly" "$py" "$work/csv_direct.py")
echo
echo "== 3. The same CSV warm ($n runs each, interleaved; goal <= 50 ms)"
echo "$out"
load

# --- 4. CSV, 10,000,000 rows -----------------------------------------------------------
if [ "${SKIP_1GB:-0}" != 1 ]; then
  big=$work/big.csv
  echo
  echo "creating 10,000,000 rows…"
  "$py" "$work/gen.py" csv 10000000 "$big"
  "$tdb" --home "$home" source add big --type csv --path "$big" >/dev/null
  cat "$big" >/dev/null
  echo
  echo "== 4. CSV, 10,000,000 rows ($(($(stat -c %s "$big") / 1048576)) MiB)"
  /usr/bin/time -f "tdb query: first (import + GROUP BY)   %e s   maxrss %M KiB" \
    "$tdb" --home "$home" query --source big --sql "$sql" --csv >/dev/null
  /usr/bin/time -f "tdb query: warm                        %e s   maxrss %M KiB" \
    "$tdb" --home "$home" query --source big --sql "$sql" --csv >/dev/null
  direct_py "$work/big_direct.py" read_csv "$big"
  /usr/bin/time -f "python duckdb on the CSV directly      %e s   maxrss %M KiB" \
    "$py" "$work/big_direct.py" >/dev/null
  load
fi
