#!/usr/bin/env bash
# Starts or stops a private PostgreSQL cluster for tests, on a free loopback port.
#   private-postgres.sh start DIR [PORT]   -> prints a connection URL on stdout
#   private-postgres.sh stop DIR
# PORT: the loopback port to listen on; a free one when left out.
# Uses the server binaries of an installed PostgreSQL (Debian's layout or pg_config). As root,
# the cluster is owned by the `postgres` user, since initdb refuses to run as root.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bindir=$(pg_config --bindir); fi
if [ -z "$bindir" ]; then bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true); fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then echo "PostgreSQL server binaries not found" >&2; exit 3; fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
      chown postgres "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1
    fi
    # The port asked for, or a free loopback port asked of the OS through Node (which the project needs anyway).
    port=${3:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
    case "$port" in ''|*[!0-9]*) echo "PORT must be a number: $port" >&2; exit 2 ;; esac
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2 ;;
esac
