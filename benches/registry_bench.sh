#!/usr/bin/env bash
# Start-up and registry speed: `tdb --version` and `tdb source list` on 1,000 sources, side
# by side with psql --version and sqlite3 reading the same rows. Target: each tdb figure
# under 20 ms wall on this machine.
#   benches/registry_bench.sh            (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tdb=$PWD/target/release/tdb
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
home=$work/home
printf 'id,name\n1,a\n' > "$work/a.csv"
echo "registering 1,000 sources…"
for i in $(seq 1 1000); do
  "$tdb" --home "$home" source add "src$i" --type csv --path "$work/a.csv" --tag bench --description "source number $i" >/dev/null
done
n=${N:-50}
t=benches/timeit.py
echo
echo "== start-up"
$t "/bin/true (process spawn floor)" "$n" /bin/true
$t "tdb --version" "$n" "$tdb" --version
# Debian's /usr/bin/psql is a Perl wrapper; time the real binary.
psql_bin=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
$t "psql --version (baseline)" "$n" "${psql_bin:-psql}" --version
echo "== list 1,000 sources"
$t "tdb source list" "$n" "$tdb" --home "$home" source list
$t "tdb source list --json" "$n" "$tdb" --home "$home" source list --json
$t "sqlite3 same rows (baseline)" "$n" sqlite3 "$home/registry.db" "SELECT id, name, source_type, description, tags, registered_at FROM sources WHERE deleted_at IS NULL ORDER BY rowid"
