# Sourced by the PostgreSQL bench scripts: starts a throwaway cluster on a free loopback port
# (as the postgres user when run as root, since initdb refuses root) and stops it on exit.
# Sets PGBIN, PGPORT, PGHOST, PGUSER=bench, PGDATABASE=bench.
pg_bin() {
  if [ -n "${TDB_PG_BIN:-}" ]; then echo "$TDB_PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ]; then echo "$d"; return; fi
  dirname "$(readlink -f "$(command -v pg_ctl)")"
}
PGBIN=$(pg_bin)
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
pgwork=$(mktemp -d)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgwork"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$pgwork/data" -U postgres --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$pgwork/data" -l "$pgwork/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $pgwork -c fsync=off" start >/dev/null
cleanup_pg() { as_pg "$PGBIN/pg_ctl" -D "$pgwork/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pgwork"; }
trap cleanup_pg EXIT
export PGHOST=127.0.0.1 PGPORT PGUSER=bench PGDATABASE=bench
"$PGBIN/psql" -X -q -U postgres -d postgres -c "CREATE ROLE bench LOGIN SUPERUSER" -c "CREATE DATABASE bench OWNER bench"
