#!/usr/bin/env bash
# What the function policy adds to a PostgreSQL query. The check rides in the round trip
# that already sets the timeouts (pipelined with the Parse), so it adds no round trip: its
# cost is the server's time to run the longer statement. This times both statements, as
# tdb sends them (prepared once per connection, then bound and executed), with pgbench on
# one loopback connection, interleaved, on a database with the contrib extensions the security review
# used; the difference is the policy's added latency per query.
#   benches/guard_policy_bench.sh      (T=5 seconds per run, ROUNDS=3 by default;
#                                       MODE=extended times them unprepared, as a statement
#                                       planned anew each time)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/pglocal.sh
"$PGBIN/psql" -X -q -c "CREATE EXTENSION dblink" -c "CREATE EXTENSION tablefunc" \
  -c "CREATE EXTENSION xml2" -c "CREATE EXTENSION pg_surgery" -c "CREATE EXTENSION pg_prewarm" \
  -c "CREATE EXTENSION pg_visibility"
work=$(mktemp -d)
trap 'rm -rf "$work"; cleanup_pg' EXIT
# Today's statement and the one with the check, with the values tdb binds for
#   SELECT status, count(*), sum(total) FROM data
#   WHERE created_at > now() - interval '1 day' GROUP BY 1 ORDER BY 2 DESC
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
src = open("src/connector/postgres/policy.rs").read()
sql = re.search(r'pub const SET_TIMEOUTS_AND_PROBE: &str = "\\\n(.*?)";\n', src, re.S).group(1)
guard = open("src/core/guard.rs").read()
deny = guard[guard.index("pub const DENIED_FUNCTIONS"):guard.index("pub fn denied_family")]
denied = [n.replace("_", "\\_").replace("*", "%") for n in re.findall(r'"([a-z0-9_*]+)"', deny)]
values = {
    1: "'30000'",
    2: "ARRAY['','','']", 3: "ARRAY['count','now','sum']", 4: "ARRAY[0,0,1]",
    5: "ARRAY[false,false,false]",
    6: "ARRAY['','','','','','','','']",
    7: "ARRAY['=','<>','<','>','<=','>=','>','-']",
    8: "ARRAY['INTERVAL']", 9: "'{}'::text[]",
    10: "ARRAY[" + ",".join(f"'{n}'" for n in denied) + "]::text[]",
}
check = re.sub(r"\$(\d+)", lambda m: values[int(m.group(1))], sql)
old = ("SELECT pg_catalog.set_config('statement_timeout', '30000', true), "
       "pg_catalog.set_config('lock_timeout', '30000', true), "
       "pg_catalog.set_config('idle_in_transaction_session_timeout', '30000', true), "
       "pg_catalog.set_config('standard_conforming_strings', 'on', true)")
open(f"{work}/old.sql", "w").write(old.replace("\n", " ") + ";\n")
open(f"{work}/new.sql", "w").write(check.replace("\n", " ") + ";\n")
PY
t=${T:-5}
run() {
  pgbench -n -M "${MODE:-prepared}" -c 1 -T "$t" -f "$work/$1.sql" 2>/dev/null |
    sed -nE 's/^latency average = ([0-9.]+) ms/\1/p'
}
echo "== timeouts only (today) vs timeouts + function check, one loopback connection, ${t}s each"
old_all=(); new_all=()
for round in $(seq "${ROUNDS:-3}"); do
  o=$(run old); n=$(run new)
  old_all+=("$o"); new_all+=("$n")
  printf 'round %s: today %s ms   with the check %s ms   added %s ms\n' "$round" "$o" "$n" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.3f}')" "$o" "$n")"
done
python3 - "${old_all[*]}" "${new_all[*]}" <<'PY'
import statistics, sys
o = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
print(f"median: today {statistics.median(o):.3f} ms, with the check {statistics.median(n):.3f} ms, "
      f"added {statistics.median(n) - statistics.median(o):.3f} ms per query (target < 1 ms); no extra round trip")
PY
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
