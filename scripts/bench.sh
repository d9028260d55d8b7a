#!/usr/bin/env bash
# make bench: start a throw-away PostgreSQL (and Redis) on loopback, make a fresh benchmark
# database, and run every scenario (bench/run.py). Extra arguments go to bench/run.py, e.g.
#   bash scripts/bench.sh --lines 100000 --scale 10000,30000,100000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ci_services.sh >/dev/null
export PGPASSWORD=baojia
psql -q -h 127.0.0.1 -p 55432 -U baojia -d baojia -c "DROP DATABASE IF EXISTS baojia_bench" 2>/dev/null
psql -q -h 127.0.0.1 -p 55432 -U baojia -d baojia -c "CREATE DATABASE baojia_bench"
export DATABASE_URL=postgres://baojia:baojia@127.0.0.1:55432/baojia_bench
export CELERY_BROKER_URL=redis://127.0.0.1:56379/2
export REDIS_URL=redis://127.0.0.1:56379/3
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py createcachetable
exec .venv/bin/python bench/run.py "$@"
