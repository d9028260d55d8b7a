#!/usr/bin/env bash
# Runs the whole product on this machine: migrations, static files, demo data, one Celery
# worker with embedded beat (background, log in var/celery.log) and gunicorn (foreground).
# Ctrl-C (or SIGTERM) stops both.
#
#   HOST=0.0.0.0 PORT=8000 scripts/run.sh        (defaults: 127.0.0.1:8000)
#
# DATABASE_URL / CELERY_BROKER_URL, if set, are inherited and read by the settings; unset, the
# embedded default is used (SQLite + kombu's filesystem broker under var/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  echo "run.sh: $VENV is missing: run 'make venv' first (or use 'make run')" >&2
  exit 1
fi

# kombu's filesystem broker needs its folders before the worker starts.
mkdir -p var/broker/in var/broker/processed var/broker/control

"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py createcachetable
"$VENV/bin/python" manage.py collectstatic --noinput -v0
"$VENV/bin/python" manage.py seed_demo

worker_pid=""
web_pid=""
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in $web_pid $worker_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $web_pid $worker_pid; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat <<BANNER

============================================================
  URL:    http://${HOST}:${PORT}/
  Admin:  /admin/
  Celery worker log: var/celery.log      (Ctrl-C stops all)
============================================================

BANNER

"$VENV/bin/celery" -A config worker -B -l info --concurrency 2 -s var/celerybeat-schedule \
  >>var/celery.log 2>&1 &
worker_pid=$!

# gunicorn is started as a child and waited for (rather than run directly) so that a SIGTERM
# sent to this script is handled at once and reaches both processes.
"$VENV/bin/gunicorn" config.wsgi:application --bind "${HOST}:${PORT}" --workers 2 \
  --access-logfile - &
web_pid=$!
wait "$web_pid"
