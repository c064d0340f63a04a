# Sourced by the MariaDB bench scripts: starts a throwaway MariaDB in a temp dir on a free
# loopback port and a socket (as the mysql user when run as root, so the datadir is not
# root's) and shuts it down and removes the dir on exit, Ctrl-C included.
# Sets MYPORT, MYSOCK, MYUSER=bench, MYPASS (random), MYDATABASE=bench and MYWORK (the temp
# dir, removed on exit); `my_root SQL…` runs statements as root over the socket. The bench
# user may only SELECT from `bench`.
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] ||
  { echo "MariaDB server not found: apt-get install mariadb-server mariadb-client" >&2; exit 1; }
mariadbd_bin=$(command -v mariadbd || echo /usr/sbin/mariadbd)
MYWORK=$(mktemp -d)
MYSOCK=$MYWORK/mysqld.sock
as_mysql=()
if [ "$(id -u)" = 0 ]; then
  chown mysql: "$MYWORK"
  as_mysql=(--user=mysql)
fi
mypid=
cleanup_mariadb() {
  if [ -n "$mypid" ] && kill -0 "$mypid" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$MYSOCK" -u root shutdown >/dev/null 2>&1 || kill "$mypid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$mypid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$mypid" 2>/dev/null || true
  fi
  rm -rf "$MYWORK"
}
trap cleanup_mariadb EXIT
trap 'exit 130' INT TERM HUP
mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
  "${as_mysql[@]}" --datadir="$MYWORK/data" >"$MYWORK/install.log" 2>&1 ||
  { cat "$MYWORK/install.log" >&2; exit 1; }
MYPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# No durability needed for a throwaway server: the load is faster without flushes.
"$mariadbd_bin" --no-defaults "${as_mysql[@]}" --datadir="$MYWORK/data" --socket="$MYSOCK" \
  --port="$MYPORT" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$MYWORK/mysqld.pid" \
  --log-error="$MYWORK/error.log" --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
  --innodb-buffer-pool-size=256M >/dev/null 2>&1 &
mypid=$!
for _ in $(seq 300); do
  mariadb-admin --no-defaults -S "$MYSOCK" -u root ping >/dev/null 2>&1 && break
  kill -0 "$mypid" 2>/dev/null || { echo "mariadbd exited:" >&2; cat "$MYWORK/error.log" >&2; exit 1; }
  sleep 0.1
done
mariadb-admin --no-defaults -S "$MYSOCK" -u root ping >/dev/null 2>&1 ||
  { echo "mariadbd did not answer within 30 s:" >&2; cat "$MYWORK/error.log" >&2; exit 1; }
my_root() { mariadb --no-defaults -S "$MYSOCK" -u root "$@"; }
MYUSER=bench MYDATABASE=bench
MYPASS=pw-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
export MYPORT MYSOCK MYUSER MYPASS MYDATABASE
my_root -e "CREATE DATABASE bench;
  CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY '$MYPASS';
  GRANT SELECT ON bench.* TO 'bench'@'127.0.0.1'"
