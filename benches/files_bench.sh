#!/usr/bin/env bash
# File kinds: `tdb query` of a GROUP BY over a 1,000,000-row Parquet file against DuckDB's own
# Python package (the same engine, read directly) on the same file, interleaved in one run.
# Goal: tdb within 1.0x (tdb adds no cost of its own worth measuring).
#   benches/files_bench.sh      (N=15 runs each by default; needs python3 with pip or venv)
set -euo pipefail
cd "$(dirname "$0")/.."
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
echo "creating 1,000,000 rows…"
"$py" - "$work/orders.parquet" <<'PY'
import duckdb, sys
duckdb.sql(f"""COPY (SELECT i AS id, 'user' || i || '@example.com' AS email,
  (['new','paid','shipped','cancelled','refunded'])[1 + i % 5] AS status,
  CAST(((i * 37) % 100000) / 100.0 AS DECIMAL(10,2)) AS total,
  TIMESTAMP '2024-01-01' + to_seconds(i * 13) AS created_at FROM range(1000000) r(i))
  TO '{sys.argv[1]}' (FORMAT parquet)""")
PY
home=$work/home
"$tdb" --home "$home" source add orders --type parquet --path "$work/orders.parquet" >/dev/null
sql="SELECT status, count(*) AS n, sum(total) AS total FROM data GROUP BY status ORDER BY status"
"$tdb" --home "$home" query --source orders --sql "$sql" --csv
cat > "$work/direct.py" <<PY
import duckdb
con = duckdb.connect()
con.sql("CREATE VIEW data AS SELECT * FROM read_parquet('$work/orders.parquet')")
print(con.sql("$sql").fetchall())
PY
n=${N:-15}
out=$(benches/timeit.py --interleave "$n" \
  "tdb query --csv (Parquet GROUP BY, 1M rows)" "$tdb" --home "$home" query --source orders --sql "$sql" --csv :: \
  "python duckdb 1.5.6, same file (baseline)" "$py" "$work/direct.py")
echo
echo "== Parquet GROUP BY over 1,000,000 rows ($n runs each, interleaved, process start included)"
echo "$out"
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
python3 -c "import sys; print(f'tdb / duckdb = {float(sys.argv[1])/float(sys.argv[2]):.3f}x (goal <= 1.0x)')" \
  "$(median "tdb query")" "$(median "python duckdb")"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
