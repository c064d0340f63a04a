#!/usr/bin/env bash
# `tdb query --json` of 1,000 rows of a 10,000,000-row table against `clickhouse-client`
# doing the same, and a GROUP BY over the 10M rows, in one interleaved run on a throwaway
# local ClickHouse (Debian's clickhouse-server). Targets (issue 16): tdb at most 0.5x the
# client's wall time with peak memory under 20 MiB; the GROUP BY within 1.1x of the client.
#   benches/query_clickhouse_bench.sh      (N=20 runs each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tdb=${CARGO_TARGET_DIR:-$PWD/target}/release/tdb
work=$(mktemp -d /tmp/tdb-chbench-XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http=$(free_port); tcp=$(free_port)
mkdir -p "$work"/{data,tmp,user_files,log}
cat > "$work/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex><profiles><default></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default></default></quotas></yandex>
XML
cat > "$work/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$work/log/server.log</log><errorlog>$work/log/err.log</errorlog></logger>
  <http_port>$http</http_port><tcp_port>$tcp</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>$work/data/</path><tmp_path>$work/tmp/</tmp_path><user_files_path>$work/user_files/</user_files_path>
  <users_config>$work/users.xml</users_config><default_profile>default</default_profile>
  <default_database>default</default_database><mark_cache_size>5368709</mark_cache_size>
</yandex>
XML
clickhouse-server --config-file="$work/config.xml" >"$work/log/stdout.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$http/ping" >/dev/null && break; sleep 0.1; done
ch() { clickhouse-client --host 127.0.0.1 --port "$tcp" "$@"; }
echo "loading 10,000,000 rows…"
ch --query "CREATE TABLE big (id UInt64, email String, total Decimal(10,2), status String,
  created_at DateTime, note String) ENGINE = MergeTree ORDER BY id"
ch --query "INSERT INTO big SELECT number, concat('user', toString(number), '@example.com'),
  toDecimal64(number % 100000, 2) / 100, ['pending','paid','shipped','refunded'][1 + number % 4],
  toDateTime('2026-01-01 00:00:00') + number * 60, concat('note, with \"quotes\" ', toString(number))
  FROM system.numbers LIMIT 10000000"
home=$work/home
"$tdb" --home "$home" source add big --type clickhouse \
  --connection "{\"host\":\"127.0.0.1\",\"port\":$http,\"table\":\"big\"}" >/dev/null
n=${N:-20}
t=benches/timeit.py
sql="SELECT * FROM big LIMIT 1000"
group="SELECT status, count(), sum(total) FROM big GROUP BY status ORDER BY status"
tdb_rows=$("$tdb" --home "$home" query --source big --sql "SELECT * FROM data" --limit 1000 --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["rows_returned"])')
cli_rows=$(ch --query "$sql" | wc -l)
[ "$tdb_rows" = 1000 ] && [ "$cli_rows" = 1000 ] ||
  { echo "expected 1000 rows from both, got tdb $tdb_rows, clickhouse-client $cli_rows" >&2; exit 1; }
out=$($t --interleave "$n" \
  "tdb query --json --limit 1000" "$tdb" --home "$home" query --source big --sql "SELECT * FROM data" --limit 1000 --json :: \
  "clickhouse-client 1000 rows" clickhouse-client --host 127.0.0.1 --port "$tcp" --query "$sql" :: \
  "tdb GROUP BY" "$tdb" --home "$home" query --source big --sql "$group" --json :: \
  "clickhouse-client GROUP BY" clickhouse-client --host 127.0.0.1 --port "$tcp" --query "$group")
echo "$out"
median() { echo "$out" | grep -F "$1" | head -n 1 | sed -E 's/.*median +([0-9.]+).*/\1/'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
echo "1,000 rows: tdb / clickhouse-client = $(ratio "$(median "tdb query")" "$(median "clickhouse-client 1000")")x (target <= 0.5x)"
echo "GROUP BY:   tdb / clickhouse-client = $(ratio "$(median "tdb GROUP BY")" "$(median "clickhouse-client GROUP BY")")x (target <= 1.1x)"
tdb_rss=$(echo "$out" | grep -F "tdb query" | head -n 1 | sed -E 's/.*maxrss +([0-9.]+).*/\1/')
echo "tdb peak memory $tdb_rss MiB (target < 20 MiB); load $(cut -d' ' -f1-3 /proc/loadavg)"
