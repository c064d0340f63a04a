#!/usr/bin/env bash
# CSV import benchmark: tdb against the sqlite3 CLI, side by side in one run.
#
#   benches/csv_bench.sh [ROWS]          default 1,000,000 rows (~100 MB)
#
# Environment:
#   TDB_BENCH_DIR        work folder (default: $TMPDIR/tdb-csv-bench); generated files are
#                        kept there and reused when the row count matches
#   TDB_BENCH_WARM_RUNS  warm query repetitions, median reported (default 5)
#   TDB_BENCH_1GB=1      also measure peak memory importing a ~1 GB file (10M rows; slow)
#   SQLITE3              the sqlite3 CLI to compare with (default: sqlite3 on PATH)
#
# Every measurement is its own process, so each peak-memory figure belongs to one step.
# To compare another way of running tdb (say the real `tdb query` binary), add a step that
# calls `measure NAME CMD...` (wall seconds and peak RSS of any command) and a `row` line.
set -euo pipefail

cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
DIR=${TDB_BENCH_DIR:-${TMPDIR:-/tmp}/tdb-csv-bench}
WARM_RUNS=${TDB_BENCH_WARM_RUNS:-5}
SQLITE3=${SQLITE3:-sqlite3}
QUERY="SELECT status, count(*), sum(total) FROM data GROUP BY status"

command -v "$SQLITE3" >/dev/null || { echo "csv_bench: $SQLITE3 not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "csv_bench: needs GNU time at /usr/bin/time" >&2; exit 1; }
mkdir -p "$DIR"

echo "building the bench target (release)…" >&2
BIN=$(cargo bench --bench csv_import --no-run --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*csv_import[^"]*"' | tail -n 1 | cut -d'"' -f4)
[ -x "$BIN" ] || { echo "csv_bench: could not build benches/csv_import.rs" >&2; exit 1; }

# measure NAME CMD... : runs CMD, sets WALL[NAME] (seconds) and RSS[NAME] (KiB).
declare -A WALL RSS
measure() {
    local name=$1; shift
    local out; out=$(mktemp)
    /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null
    read -r WALL[$name] RSS[$name] <"$out"
    rm -f "$out"
}

# kv KEY TEXT : the value of a `key=value` line printed by the bench target.
kv() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }

# csv_for ROWS : path of a generated file with ROWS rows (generated once).
csv_for() {
    local f="$DIR/orders-$1.csv"
    if [ ! -s "$f" ]; then
        echo "generating $f…" >&2
        "$BIN" gen "$f.tmp" "$1" && mv "$f.tmp" "$f"
    fi
    echo "$f"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

CSV=$(csv_for "$ROWS")
SIZE=$(stat -c %s "$CSV")
cat "$CSV" >/dev/null # both sides start from the page cache

# --- tdb: first query, import included -------------------------------------------------
HOME_DIR="$DIR/home"
rm -rf "$HOME_DIR"
echo "tdb: import + query…" >&2
TDB_FIRST=$("$BIN" first "$CSV" "$HOME_DIR")
T_IMPORT=$(kv import_s "$TDB_FIRST")
T_FIRST=$(kv first_query_s "$TDB_FIRST")
T_RATE=$(kv rows_per_s "$TDB_FIRST")
T_RSS=$(kv peak_rss_kib "$TDB_FIRST")
T_CACHE=$(kv cache_bytes "$TDB_FIRST")

# --- sqlite3: .import + the same query ------------------------------------------------
S_DB="$DIR/sqlite3.db"
rm -f "$S_DB"
echo "sqlite3: .import + query…" >&2
measure sqlite_first "$SQLITE3" "$S_DB" ".import --csv $CSV data" "$QUERY"
S_FIRST=${WALL[sqlite_first]}
S_RSS=${RSS[sqlite_first]}
S_SIZE=$(stat -c %s "$S_DB")

# --- the real binary: `tdb query` (import, guard, audit and JSON output included) -----------
echo "tdb query (the binary): first + warm…" >&2
cargo build --release --quiet
TDB=$PWD/target/release/tdb
CLI_HOME="$DIR/home-cli"
rm -rf "$CLI_HOME"
"$TDB" --home "$CLI_HOME" source add orders --type csv --path "$CSV" >/dev/null
measure cli_first "$TDB" --home "$CLI_HOME" query --source orders --sql "$QUERY" --json
C_FIRST=${WALL[cli_first]}
C_RSS=${RSS[cli_first]}
C_WARM=$(for _ in $(seq "$WARM_RUNS"); do
    measure cli_warm "$TDB" --home "$CLI_HOME" query --source orders --sql "$QUERY" --json
    echo "${WALL[cli_warm]}"
done | median)

# --- warm queries ----------------------------------------------------------------------
echo "warm queries ($WARM_RUNS runs each)…" >&2
TDB_WARM=$("$BIN" warm "$CSV" "$HOME_DIR" "$WARM_RUNS")
T_WARM=$(kv warm_query_s "$TDB_WARM")
S_WARM=$(for _ in $(seq "$WARM_RUNS"); do
    printf '.timer on\n%s;\n' "$QUERY" | "$SQLITE3" "$S_DB" |
        sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p'
done | median)

# --- report ----------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == "<=") ? (v <= t) : (op == ">=") ? (v >= t) : (v < t); print ok ? "ok" : "MISSED" }'; }
row() { printf '%-34s %14s %14s %8s %14s %7s\n' "$@"; }

echo
echo "CSV: $CSV ($ROWS rows, $((SIZE / 1048576)) MiB); query: $QUERY"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); sqlite3 $("$SQLITE3" --version | cut -d' ' -f1)"
echo
row "measure" "tdb" "sqlite3" "ratio" "target" "verdict"
row "import rate (rows/s)" "$T_RATE" "" "" ">= 1000000" "$(verdict "$T_RATE" ">=" 1000000)"
row "import (s)" "$T_IMPORT" "" "" "" ""
R_FIRST=$(ratio "$T_FIRST" "$S_FIRST")
row "first query incl. import (s)" "$T_FIRST" "$S_FIRST" "$R_FIRST" "<= 0.6x" "$(verdict "$R_FIRST" "<=" 0.6)"
R_WARM=$(ratio "$T_WARM" "$S_WARM")
row "warm query, median (s)" "$T_WARM" "$S_WARM" "$R_WARM" "<= 1.1x" "$(verdict "$R_WARM" "<=" 1.1)"
R_CFIRST=$(ratio "$C_FIRST" "$S_FIRST")
row "tdb query binary: first (s)" "$C_FIRST" "$S_FIRST" "$R_CFIRST" "<= 0.6x" "$(verdict "$R_CFIRST" "<=" 0.6)"
R_CWARM=$(ratio "$C_WARM" "$S_WARM")
row "tdb query binary: warm (s)" "$C_WARM" "$S_WARM" "$R_CWARM" "<= 1.1x" "$(verdict "$R_CWARM" "<=" 1.1)"
row "tdb query binary: peak RSS (MiB)" "$((C_RSS / 1024))" "" "" "< 64" "$(verdict "$C_RSS" "<" 65536)"
row "peak RSS, first query (MiB)" "$((T_RSS / 1024))" "$((S_RSS / 1024))" "" "< 64" "$(verdict "$T_RSS" "<" 65536)"
row "database size (MiB)" "$((T_CACHE / 1048576))" "$((S_SIZE / 1048576))" "" "" ""

if [ "${TDB_BENCH_1GB:-0}" = 1 ]; then
    BIG=$(csv_for 10000000)
    echo
    echo "1 GB file: $BIG ($(($(stat -c %s "$BIG") / 1048576)) MiB)…" >&2
    rm -rf "$DIR/home-1g"
    BIG_OUT=$("$BIN" first "$BIG" "$DIR/home-1g")
    B_RSS=$(kv peak_rss_kib "$BIG_OUT")
    row "1 GB: import rate (rows/s)" "$(kv rows_per_s "$BIG_OUT")" "" "" ">= 1000000" \
        "$(verdict "$(kv rows_per_s "$BIG_OUT")" ">=" 1000000)"
    row "1 GB: first query incl. import (s)" "$(kv first_query_s "$BIG_OUT")" "" "" "" ""
    row "1 GB: peak RSS (MiB)" "$((B_RSS / 1024))" "" "" "< 64" "$(verdict "$B_RSS" "<" 65536)"
    rm -rf "$DIR/home-1g"
fi
