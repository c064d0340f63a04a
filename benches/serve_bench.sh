#!/usr/bin/env bash
# `tdb serve` under load (wrk on loopback): requests per second and p50/p99 latency of
# POST /v1/query for `select 1` on a CSV source and for 1,000 rows from PostgreSQL, at 1, 16
# and 64 connections, beside GET /healthz (the HTTP floor: no key, no engine). Then: errors
# (must be 0), audit `query` lines against successful requests (must be equal), the
# server's memory at rest and its peak under load (goal < 40 MiB at 64 connections),
# SIGTERM in the middle of a run (every started query has its closing line), `tdb audit
# verify`, and the 1,000-row query through the `tdb` kind against `tdb query` direct.
#   benches/serve_bench.sh            (DURATION=20s, N=20 runs for the kind comparison,
#                                      CONNS="1 16 64", SERVE_ARGS= extra flags of tdb serve)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
tdb=$PWD/target/release/tdb
dur=${DURATION:-20s}
. benches/pglocal.sh
"$PGBIN/psql" -X -q -c "CREATE TABLE orders AS
  SELECT g AS id, 'user' || g || '@example.com' AS email, (g % 1000) / 10.0 AS total,
         (ARRAY['pending','paid','shipped'])[1 + g % 3] AS status,
         timestamptz '2026-01-01' + g * interval '1 minute' AS created_at
  FROM generate_series(1, 1000) g" -c "VACUUM ANALYZE orders"

work=$(mktemp -d)
home=$work/home
server_pid=
stop_server() { [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=; }
trap 'stop_server; rm -rf "$work"; cleanup_pg' EXIT
printf 'id,name\n1,ann\n' > "$work/one.csv"
"$tdb" --home "$home" source add one --type csv --path "$work/one.csv" >/dev/null
"$tdb" --home "$home" source add orders --type postgres \
  --url "postgres://bench@127.0.0.1:$PGPORT/bench?sslmode=disable" --connection '{"table":"orders"}' >/dev/null
key=$("$tdb" --home "$home" key create bench 2>/dev/null)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_server() {
  # shellcheck disable=SC2086
  "$tdb" --home "$home" serve --listen "127.0.0.1:$port" ${SERVE_ARGS:-} > "$work/serve.out" 2> "$work/serve.err" &
  server_pid=$!
  until grep -q listening "$work/serve.out" 2>/dev/null; do sleep 0.05; done
}
rss() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
audit_queries() { grep -c '"event":"query".*"api_key"' "$home/tdb_audit.jsonl" 2>/dev/null || true; }

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
function done(s, latency, requests)
  io.write(string.format("RESULT %d %.1f %.2f %.2f %d %d\n", s.requests,
    s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout, s.errors.status))
end
LUA
sed -e '/wrk.method/d' -e '/wrk.body/d' "$work/post.lua" > "$work/get.lua"

start_server
sleep 1
rest_rss=$(rss "$server_pid" VmRSS)
bad=0
printf '\n== %s per run, loopback, tdb serve %s; load %s\n' "$dur" "${SERVE_ARGS:-(defaults: 8 queries per source)}" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %5s %9s %9s %9s %7s %9s %8s\n' what conns rps p50_ms p99_ms errors requests audited
run() { # label conns script body
  local before after line
  before=$(audit_queries)
  line=$(BODY="$4" KEY="$key" wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "$dur" -s "$3" \
    "http://127.0.0.1:$port/$5" | grep '^RESULT')
  after=$(audit_queries)
  read -r _ reqs rps p50 p99 errs non2xx <<< "$line"
  local audited=$(( after - before ))
  printf '%-34s %5s %9s %9s %9s %7s %9s %8s\n' "$1" "$2" "$rps" "$p50" "$p99" "$(( errs + non2xx ))" "$reqs" \
    "$( [ "$5" = healthz ] && echo - || echo "$audited")"
  if [ "$(( errs + non2xx ))" -ne 0 ]; then bad=1; fi
  # wrk stops mid-request at the end of a run: a query it gave up on may still be audited.
  if [ "$5" != healthz ] && [ "$audited" -lt "$(( reqs - errs - non2xx ))" ]; then bad=1; fi
}
one='{"source_id":"one","sql":"select 1"}'
rows='{"source_id":"orders","sql":"SELECT * FROM data","limit":1000}'
for c in ${CONNS:-1 16 64}; do
  run "GET /healthz (HTTP floor)" "$c" "$work/get.lua" "" healthz
  run "POST /v1/query select 1 (CSV)" "$c" "$work/post.lua" "$one" v1/query
  run "POST /v1/query 1,000 rows (PG)" "$c" "$work/post.lua" "$rows" v1/query
  echo "  server memory after the $c-connection runs: peak so far $(rss "$server_pid" VmHWM) MiB, now $(rss "$server_pid" VmRSS) MiB"
done
echo "server memory at rest: ${rest_rss} MiB (goal < 40 MiB at 64 connections)"

# SIGTERM in the middle of a 16-connection run of the 1,000-row query.
BODY="$rows" KEY="$key" wrk -t 2 -c 16 -d 6s -s "$work/post.lua" "http://127.0.0.1:$port/v1/query" > /dev/null 2>&1 &
wrk_pid=$!
sleep 3
stop_server
wait "$wrk_pid" 2>/dev/null || true
python3 - "$home/tdb_audit.jsonl" <<'PY'
import json, sys
started, closed = set(), set()
for line in open(sys.argv[1]):
    l = json.loads(line)
    if l["event"] == "query_started":
        started.add(l["query_id"])
    elif l.get("query_id"):
        closed.add(l["query_id"])
open_ = started - closed
print(f"SIGTERM mid-run: {len(started)} queries started, {len(open_)} without a closing line (must be 0)")
sys.exit(1 if open_ else 0)
PY
"$tdb" --home "$home" audit verify

# The same 1,000 rows through the tdb kind, against tdb query on the server's home.
start_server
laptop=$work/laptop
printf '{"name":"team-orders","source_type":"tdb","connection":{"url":"http://127.0.0.1:%s","api_key":"%s","source":"orders"}}' "$port" "$key" |
  "$tdb" --home "$laptop" source add --from-json - >/dev/null
n=${N:-20}
echo
echo "== 1,000 rows: tdb query direct vs through the tdb kind ($n runs each, interleaved)"
benches/timeit.py --interleave "$n" \
  "tdb query direct (PG)" "$tdb" --home "$home" query --source orders --sql "SELECT * FROM data" --limit 1000 --json :: \
  "tdb query via the tdb kind (serve)" "$tdb" --home "$laptop" query --source team-orders --sql "SELECT * FROM data" --limit 1000 --json
stop_server
if [ "$bad" -ne 0 ]; then echo "FAILED: errors, or fewer audit lines than successful queries" >&2; exit 1; fi
