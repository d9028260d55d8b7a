#!/usr/bin/env bash
# How long `make run` takes until the web answers: starts `make run` in a process group of its own,
# polls the login page until it answers HTTP 200, prints the seconds, then stops the whole group
# with one SIGTERM and checks that nothing of it is left.
#
#   scripts/measure_run_start.sh              (PORT=18765; a second start once .venv-run and the
#                                              demo exist, a cold start the first time)
#   PORT=9000 TIMEOUT=300 scripts/measure_run_start.sh
#
# Prints e.g. "make run: web answered 200 on /login/ after 6.1 s (stopped in 1.2 s)"; the full
# output of make run is kept in var/measure_run_start.log. Exits non-zero if the web never answers
# or the group does not stop.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT=${PORT:-18765}
TIMEOUT=${TIMEOUT:-300}
URL="http://127.0.0.1:${PORT}/login/"
log=var/measure_run_start.log
mkdir -p var

if curl -s -o /dev/null --max-time 1 "$URL"; then
  echo "measure_run_start: something already answers on port $PORT: pick another PORT" >&2
  exit 1
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

start=$(now)
# setsid: make run leads a process group of its own, so one signal to the group reaches all of it.
setsid env PORT="$PORT" HOST=127.0.0.1 make run >"$log" 2>&1 &
leader=$!

stop_group() {
  kill -TERM -- "-$leader" 2>/dev/null || true
  for _ in $(seq 1 60); do
    pgrep -g "$leader" >/dev/null || return 0
    sleep 0.5
  done
  echo "measure_run_start: still running 30 s after SIGTERM:" >&2
  pgrep -a -g "$leader" >&2 || true
  kill -KILL -- "-$leader" 2>/dev/null || true
  return 1
}
trap stop_group EXIT

code=000
while :; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL" || true)
  [ "$code" = 200 ] && break
  if ! kill -0 "$leader" 2>/dev/null; then
    echo "measure_run_start: make run exited before the web answered; see $log" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  if awk -v a="$start" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
    echo "measure_run_start: no 200 from $URL after $TIMEOUT s; see $log" >&2
    exit 1
  fi
  sleep 0.1
done
ready=$(now)

trap - EXIT
stop_start=$(now)
stop_group
stopped=$(now)
echo "make run: web answered 200 on /login/ after $(elapsed "$start" "$ready") s" \
  "(stopped in $(elapsed "$stop_start" "$stopped") s)"
