#!/usr/bin/env bash
# Lighthouse accessibility scores of the storefront, an order page and the seller dashboard, run
# offline against the demo as `make run` serves it (DEBUG off, compressed static files). A check
# to run by hand, not part of CI:
#
#   bash scripts/lighthouse.sh                 (PORT=8765, reports under var/lighthouse/)
#
# Needs node/npx (lighthouse@12.2.3 from npm: 13 wants Node 22) and /usr/bin/chromium. Uses its
# own SQLite database under var/lighthouse/, seeded with `seed_demo`; logs in by a session cookie.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT=${PORT:-8765}
OUT=var/lighthouse
PY=${PY:-.venv/bin/python}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
export DATABASE_URL="sqlite:///$PWD/$OUT/db.sqlite3"
export DJANGO_DEBUG=false DJANGO_STATIC_MANIFEST=true DJANGO_ALLOWED_HOSTS=127.0.0.1
export CELERY_TASK_ALWAYS_EAGER=true

rm -rf "$OUT" && mkdir -p "$OUT"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py createcachetable
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py seed_demo >/dev/null

# A session per user, and the buyer's insured order (the one with 保险服务).
"$PY" manage.py shell -v0 -c "
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from insurance.models import Policy
for name in ('buyer', 'seller'):
    user = User.objects.get(username=name)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    open('$OUT/' + name + '.session', 'w').write(session.session_key)
order = Policy.objects.filter(buyer__username='buyer').order_by('pk').first().order_line.order
open('$OUT/order', 'w').write(order.number)
"

.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --log-level warning &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/shop/" 2>/dev/null && break
  sleep 0.2
done

audit() {  # name, path, user ("" for anonymous)
  local headers='{}'
  if [ -n "$3" ]; then headers="{\"Cookie\": \"sessionid=$(cat "$OUT/$3.session")\"}"; fi
  npx -y lighthouse@12.2.3 "http://127.0.0.1:$PORT$2" --quiet --only-categories=accessibility \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" --extra-headers "$headers" \
    --output=json --output-path="$OUT/$1.json" >/dev/null 2>&1
  "$PY" - "$OUT/$1.json" "$1" <<'PYEOF'
import json, sys
report = json.load(open(sys.argv[1]))
score = round(report["categories"]["accessibility"]["score"] * 100)
failed = [a["id"] for a in report["audits"].values() if a.get("score") == 0 and a.get("scoreDisplayMode") == "binary"]
print(f"{sys.argv[2]:<18} accessibility {score:>3}   {report['finalDisplayedUrl']}" + (f"   failing: {', '.join(failed)}" if failed else ""))
PYEOF
}

audit storefront /shop/ ""
audit order "/orders/$(cat "$OUT/order")/" buyer
audit seller-dashboard /seller/ seller
