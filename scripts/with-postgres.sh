#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: initdb in a temporary directory, the
# server on a Unix socket there (no TCP port to collide with), stopped and deleted on exit.
# The command sees CREDITBANK_TEST_DATABASE (a connection string whose user creates one
# database per test) and CREDITBANK_PG_BIN (the server's binaries, for benchmarks).
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
# Needs Debian's postgresql package (scripts/setup.sh installs it).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: PostgreSQL is not installed; run scripts/setup.sh (apt-get install postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/siteline-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
chmod 700 "$dir"

stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync \
  --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# A test cluster: durability off (the tests prove the credit bank's logic, not the disk's), and
# room for every test's connection pool at once. SITELINE_PG_DURABLE=1 keeps PostgreSQL's
# durable defaults (fsync, synchronous commit), for benchmarks that compare with SQLite FULL.
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ "${SITELINE_PG_DURABLE:-0}" = 1 ]; then durability=""; fi
export CREDITBANK_PG_CONF="${durability:-durable defaults (fsync, synchronous_commit on)}"
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' $durability -c max_connections=400 -c shared_buffers=256MB" \
  start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
# The socket directory must be reachable by the test processes (root reaches it anyway).
chmod 755 "$dir"

export CREDITBANK_TEST_DATABASE="host=$dir user=postgres dbname=postgres"
export CREDITBANK_PG_BIN="$bin"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $dir"
set +e
"$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "with-postgres: the last lines of the server's log:" >&2
  tail -n 20 "$dir/server.log" >&2 || true
fi
exit "$status"
