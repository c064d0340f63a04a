#!/usr/bin/env bash
# `tdb query --json` of 1,000 rows of a 1,000,000-row table against the `mariadb` CLI doing
# the same query over TCP, in one interleaved run on a throwaway local MariaDB. Target: tdb
# at most 0.70x the CLI's wall time, peak memory under 20 MiB.
#   benches/query_mariadb_bench.sh      (N=30 runs each by default)
#   BEFORE=path/to/an/older/tdb benches/query_mariadb_bench.sh   times that build too
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tdb=${CARGO_TARGET_DIR:-$PWD/target}/release/tdb
. benches/mariadblocal.sh
echo "loading 1,000,000 rows…"
my_root bench -e "CREATE TABLE big (id INT PRIMARY KEY, email VARCHAR(64) NOT NULL,
    total DECIMAL(10,2) NOT NULL, status VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL,
    note VARCHAR(64)) ENGINE=InnoDB;
  INSERT INTO big
  SELECT seq, CONCAT('user', seq, '@example.com'), (seq % 100000) / 100,
         ELT(1 + seq % 4, 'pending', 'paid', 'shipped', 'refunded'),
         TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq MINUTE,
         CONCAT('note, with \"quotes\" ', seq)
  FROM seq_1_to_1000000;
  ANALYZE TABLE big" >/dev/null
home=$MYWORK/home
# The password is not stored: tdb reads it from $MYPASS at connect time.
"$tdb" --home "$home" source add big --type mariadb --connection "{\"host\":\"127.0.0.1\",
  \"port\":$MYPORT,\"dbname\":\"bench\",\"user\":\"bench\",\"password_env\":\"MYPASS\",
  \"table\":\"big\",\"ssl_mode\":\"disabled\"}" >/dev/null
n=${N:-30}
t=benches/timeit.py
sql="SELECT * FROM big LIMIT 1000"
# tdb as a user writes it: `data`, and the row limit the guard adds (LIMIT 1001).
tdb_sql="SELECT * FROM data"
# Both must return the same 1,000 rows, or the comparison means nothing.
tdb_rows=$("$tdb" --home "$home" query --source big --sql "$tdb_sql" --limit 1000 --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["rows_returned"])')
cli_rows=$(mariadb --batch --skip-column-names -h 127.0.0.1 -P "$MYPORT" -u bench -p"$MYPASS" bench -e "$sql" | wc -l)
[ "$tdb_rows" = 1000 ] && [ "$cli_rows" = 1000 ] ||
  { echo "expected 1000 rows from both, got tdb $tdb_rows, mariadb $cli_rows" >&2; exit 1; }
echo
echo "== 1,000 rows of 1,000,000 (loopback, $n runs each, interleaved)"
groups=("/bin/true (process spawn floor)" /bin/true ::
  "tdb query --json --limit 1000" "$tdb" --home "$home" query --source big --sql "$tdb_sql" --limit 1000 --json ::
  "mariadb --batch -e (TCP, baseline)" mariadb --batch -h 127.0.0.1 -P "$MYPORT" -u bench -p"$MYPASS" bench -e "$sql")
# BEFORE=path/to/an/older/tdb times that build too, in the same interleaved run, so a change's
# effect is measured against the same moment of a shared machine.
if [ -n "${BEFORE:-}" ]; then
  groups+=(:: "before: $BEFORE" "$BEFORE" --home "$home" query --source big --sql "$tdb_sql" --limit 1000 --json)
fi
out=$($t --interleave "$n" "${groups[@]}")
echo "$out"
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
tdb_ms=$(median "tdb query"); cli_ms=$(median "mariadb --batch"); true_ms=$(median "/bin/true")
echo "tdb / mariadb = $(ratio "$tdb_ms" "$cli_ms")x (target <= 0.70x)"
if [ -n "${BEFORE:-}" ]; then
  echo "tdb / before = $(ratio "$tdb_ms" "$(median "before: ")")x"
fi
tdb_rss=$(echo "$out" | grep -F "tdb query" | head -n 1 | sed -E 's/.*maxrss +([0-9.]+).*/\1/')
echo "tdb peak memory $tdb_rss MiB (target < 20 MiB); spawn floor $true_ms ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
