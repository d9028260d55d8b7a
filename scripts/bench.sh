#!/usr/bin/env bash
# make bench: start a throw-away PostgreSQL (and Redis) on loopback, make a fresh benchmark
# database, and run every scenario (python -m bench.run). Extra arguments go to it, e.g.
#   bash scripts/bench.sh --lines 100000 --scale 10000,30000,100000 --page-sizes 10000,100000
#   bash scripts/bench.sh --only settle
# Two runs can share the servers with other names: BENCH_DATABASE (default baojia_bench; pgbench
# uses "<it>_pgbench" and the pages scenario "<it>_pages", unless BENCH_PGBENCH_DATABASE or
# BENCH_PAGES_DATABASE say otherwise) and BENCH_REDIS_DB (default 2: the broker there, the cache
# in the next one). The servers are started if they are not running, and never stopped here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_DATABASE=${BENCH_DATABASE:-baojia_bench}
BENCH_REDIS_DB=${BENCH_REDIS_DB:-2}
[[ "$BENCH_DATABASE" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "BENCH_DATABASE: letters, digits, _" >&2; exit 2; }
[[ "$BENCH_REDIS_DB" =~ ^[0-9]+$ ]] || { echo "BENCH_REDIS_DB: a number" >&2; exit 2; }

bash scripts/ci_services.sh >/dev/null
export PGPASSWORD=baojia
psql -q -h 127.0.0.1 -p 55432 -U baojia -d baojia -c "DROP DATABASE IF EXISTS $BENCH_DATABASE" 2>/dev/null
psql -q -h 127.0.0.1 -p 55432 -U baojia -d baojia -c "CREATE DATABASE $BENCH_DATABASE"
export DATABASE_URL=postgres://baojia:baojia@127.0.0.1:55432/$BENCH_DATABASE
export BENCH_PGBENCH_DATABASE=${BENCH_PGBENCH_DATABASE:-${BENCH_DATABASE%_bench}_pgbench}
export CELERY_BROKER_URL=redis://127.0.0.1:56379/$BENCH_REDIS_DB
export REDIS_URL=redis://127.0.0.1:56379/$((BENCH_REDIS_DB + 1))
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py createcachetable
exec .venv/bin/python -m bench.run "$@"
