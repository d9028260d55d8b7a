#!/usr/bin/env bash
# PostgreSQL and Redis on loopback, for CI and for developers who want the production-like setup.
#
#   bash scripts/ci_services.sh [start]   install if missing, start (or reuse) both, print the URLs
#   bash scripts/ci_services.sh stop      stop both and remove PostgreSQL's temporary folder
#   bash scripts/ci_services.sh status
#
# start prints only the two URLs on stdout (progress goes to stderr):
#   DATABASE_URL=postgres://baojia:baojia@127.0.0.1:55432/baojia
#   CELERY_BROKER_URL=redis://127.0.0.1:56379/0
# PostgreSQL refuses to run as root: as root, initdb/pg_ctl run as the postgres user on a data
# folder in a temporary directory (/tmp/baojia-ci-pg.XXXXXX) that it owns.  Durability is off
# (fsync, synchronous_commit, full_page_writes): this is a throw-away test server.
set -euo pipefail

PG_PORT=55432
REDIS_PORT=56379
DB_NAME=baojia
DB_USER=baojia
DB_PASSWORD=baojia
TMP_BASE=/tmp
PG_DIR_PREFIX="$TMP_BASE/baojia-ci-pg."
REDIS_PIDFILE="$TMP_BASE/baojia-ci-redis.pid"
REDIS_LOG="$TMP_BASE/baojia-ci-redis.log"
DATABASE_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
WAIT_SECONDS=60

# The postgres user cannot enter most working directories (e.g. /root): work from /tmp.
cd "$TMP_BASE"

log() { echo "ci_services: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

pg_bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && best=$d
  done
  echo "$best"
}

# Runs a command as the postgres user when we are root, else as ourselves.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }
redis_up() { [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# The temporary folders of our PostgreSQL servers (normally at most one).
pg_dirs() {
  local d
  for d in "$PG_DIR_PREFIX"*; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

pg_running_in() {  # DIR: is a live postmaster running on DIR/data? (a zombie or a reused pid is not)
  local pid
  pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = postgres ] || return 1
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]]
}

wait_for() {  # DESCRIPTION COMMAND...
  local what=$1 i
  shift
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  die "$what did not answer within ${WAIT_SECONDS}s"
}

ensure_packages() {
  local need=()
  [ -n "$(pg_bindir)" ] || need+=(postgresql)
  command -v pg_isready >/dev/null && command -v psql >/dev/null || need+=(postgresql-client)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v redis-cli >/dev/null || need+=(redis-tools)
  [ ${#need[@]} -eq 0 ] && return 0
  is_root || die "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q update >&2
  apt-get -q install -y --no-install-recommends "${need[@]}" >&2 </dev/null
  [ -n "$(pg_bindir)" ] || die "no /usr/lib/postgresql/*/bin/pg_ctl after installing postgresql"
}

start_postgres() {
  local bin dir="" d
  bin=$(pg_bindir)
  if is_root; then id postgres >/dev/null 2>&1 || die "no postgres user (it comes with the postgresql package)"; fi

  # Reuse a server of ours that is running; remove folders left by servers that are gone.
  while read -r d; do
    [ -n "$d" ] || continue
    if pg_running_in "$d"; then
      dir=$d
    else
      log "removing stale $d"
      rm -rf "$d"
    fi
  done < <(pg_dirs)

  if [ -n "$dir" ]; then
    log "PostgreSQL already running in $dir: reusing it"
  elif pg_up; then
    log "something already answers on 127.0.0.1:$PG_PORT (not started by this script): reusing it"
  else
    dir=$(mktemp -d "${PG_DIR_PREFIX}XXXXXX")
    is_root && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_pg mkdir "$dir/sock"
    log "initdb in $dir/data"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    cat >>"$dir/data/postgresql.conf" <<CONF

# added by scripts/ci_services.sh: loopback only, no durability (throw-away test server)
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $dir/postgres.log)"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$WAIT_SECONDS" start >/dev/null \
      || { tail -n 30 "$dir/postgres.log" >&2 || true; die "pg_ctl start failed"; }
  fi
  wait_for "PostgreSQL on 127.0.0.1:$PG_PORT" pg_up

  if [ -n "$dir" ]; then
    # Idempotent: creates the role and the database only when missing.
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$PG_PORT" -U postgres -d postgres \
      >/dev/null <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$DB_USER', '$DB_PASSWORD')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE "$DB_USER" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB_NAME', '$DB_USER')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
  fi
  PGCONNECT_TIMEOUT=5 psql -X -q -At "$DATABASE_URL" -c 'select 1' >/dev/null \
    || die "cannot log in with $DATABASE_URL"
  log "PostgreSQL ready"
}

start_redis() {
  if redis_up; then
    log "Redis already answers on 127.0.0.1:$REDIS_PORT: reusing it"
  else
    log "starting Redis on 127.0.0.1:$REDIS_PORT (log: $REDIS_LOG)"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --dir "$TMP_BASE" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" >/dev/null
    wait_for "Redis on 127.0.0.1:$REDIS_PORT" redis_up
  fi
  log "Redis ready"
}

stop_services() {
  local bin d
  if redis_up; then
    log "stopping Redis on 127.0.0.1:$REDIS_PORT"
    timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -f "$REDIS_PIDFILE" "$REDIS_LOG"

  bin=$(pg_bindir)
  while read -r d; do
    [ -n "$d" ] || continue
    if [ -n "$bin" ] && pg_running_in "$d"; then
      log "stopping PostgreSQL in $d"
      as_pg "$bin/pg_ctl" -D "$d/data" -m fast -w -t "$WAIT_SECONDS" stop >/dev/null || true
    fi
    log "removing $d"
    rm -rf "$d"
  done < <(pg_dirs)

  if pg_up; then log "warning: something not started by this script still answers on 127.0.0.1:$PG_PORT"; fi
  if redis_up; then log "warning: Redis still answers on 127.0.0.1:$REDIS_PORT"; fi
  log "stopped"
}

status() {
  local rc=0
  if pg_up; then echo "postgresql: up ($DATABASE_URL)"; else echo "postgresql: down"; rc=1; fi
  if redis_up; then echo "redis: up ($CELERY_BROKER_URL)"; else echo "redis: down"; rc=1; fi
  return $rc
}

clients_present() { command -v redis-cli >/dev/null && command -v pg_isready >/dev/null; }

case "${1:-start}" in
  start)
    ensure_packages
    start_postgres
    start_redis
    echo "DATABASE_URL=$DATABASE_URL"
    echo "CELERY_BROKER_URL=$CELERY_BROKER_URL"
    ;;
  stop)
    clients_present || { log "services not installed: nothing to stop"; exit 0; }
    stop_services
    ;;
  status)
    clients_present || { echo "not installed"; exit 1; }
    status
    ;;
  *)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
