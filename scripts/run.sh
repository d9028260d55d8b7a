#!/usr/bin/env bash
# Runs the whole product on this machine: migrations, static files, demo data, one Celery worker,
# Celery beat and gunicorn, as a demo would be served (DEBUG off, compressed static files with
# hashed names, the product's own 404/500 pages). Ctrl-C, or SIGTERM to this script or to its whole
# process group, stops everything within seconds.
#
#   HOST=0.0.0.0 PORT=8000 scripts/run.sh        (defaults: 127.0.0.1:8000)
#   DJANGO_DEBUG=true scripts/run.sh             (Django's debug pages, for development)
#
# DATABASE_URL / CELERY_BROKER_URL, if set, are inherited and read by the settings; unset, the
# embedded default is used (SQLite + kombu's filesystem broker under var/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VENV=${VENV:-.venv-run}
export DJANGO_DEBUG=${DJANGO_DEBUG:-false}
export DJANGO_STATIC_MANIFEST=${DJANGO_STATIC_MANIFEST:-true}

if [ ! -x "$VENV/bin/python" ]; then
  echo "run.sh: $VENV is missing: use 'make run' (it creates it)" >&2
  exit 1
fi
py="$VENV/bin/python"

# kombu's filesystem broker needs its folders before the worker starts.
mkdir -p var/broker/in var/broker/processed var/broker/control

# Migrations, the cache table and the demo data in one Python process: each `manage.py` call pays
# Django's start-up again (about 1.5 s here), and a second start has little else to do.
prepare() {
  "$py" - <<'PY'
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command  # noqa: E402

call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable", verbosity=0)
call_command("seed_demo")
PY
}
# collectstatic compresses every file: only when a static file changed since the last run.
stamp=var/.static-stamp
if [ ! -f "$stamp" ] || [ -n "$(find static -newer "$stamp" -print -quit)" ] \
  || [ ! -f var/staticfiles/staticfiles.json ]; then
  "$py" manage.py collectstatic --noinput -v0
  touch "$stamp"
fi
prepare

pids=()
cleanup() {
  trap - EXIT INT TERM
  local pid
  # One SIGTERM each (a group signal may already have delivered one; a second is harmless to these
  # three), then SIGKILL whatever is left after 10 s. Killing the worker is safe: tasks are
  # acknowledged late, so one cut short runs again, and the database holds the truth.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# gunicorn is started as a child and waited for (rather than run directly) so that a SIGTERM
# sent to this script is handled at once and reaches every process. It starts first, and loads the
# app once before forking its workers (--preload): on two cores the page answers seconds sooner.
"$VENV/bin/gunicorn" config.wsgi:application --bind "${HOST}:${PORT}" --workers 2 --preload \
  --graceful-timeout 5 --access-logfile - &
web=$!
pids+=("$web")
# A thread pool: the prefork pool's shutdown waited on billiard's timeout thread for minutes (and
# one machine's demo needs no child processes). Production runs its workers as it likes.
"$VENV/bin/celery" -A config worker -l info --pool threads --concurrency 2 --without-gossip --without-mingle \
  >>var/celery.log 2>&1 &
pids+=($!)
"$VENV/bin/celery" -A config beat -l info -s var/celerybeat-schedule >>var/celery.log 2>&1 &
pids+=($!)

cat <<BANNER

============================================================
  保价 is running:   http://${HOST}:${PORT}/
  Staff admin:       http://${HOST}:${PORT}/admin/
  API docs:          http://${HOST}:${PORT}/api/docs/
  Logins are printed above (seed_demo). Worker and beat log: var/celery.log
  Ctrl-C stops everything.
============================================================

BANNER
wait "$web"
