"""How the pages people look at cost as data grows (issue 13): p50/p95 and SQL queries per page
for a seller whose campaigns hold N insured lines and a buyer with many orders, on PostgreSQL.

    export DATABASE_URL=postgres://baojia:baojia@127.0.0.1:55432/baojia_scale
    .venv/bin/python scripts/scale_pages.py load --label small --lines 10000 --buyer-orders 10
    .venv/bin/python scripts/scale_pages.py measure --label small
    .venv/bin/python scripts/scale_pages.py load --label large --lines 1000000 --buyer-orders 1000
    .venv/bin/python scripts/scale_pages.py measure --label large
    .venv/bin/python scripts/scale_pages.py measure --label small   # the small seller again, now beside 1M

``load`` runs ``simulate_campaign`` once per campaign (20 by default), moves every campaign, shop
and policy onto the first simulated seller, puts a few claims in review, and rebuilds the summary
tallies (timed). ``measure`` fetches each page in-process through Django's test client, logged
in as the seller, the buyer and a superuser: the queries of one request, then p50/p95 over
``--repeat`` requests. Nothing here writes to the benchmark harness (bench/).
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.simulate import Plan, simulate  # noqa: E402
from claims.models import Claim, ClaimState  # noqa: E402
from claims.summaries.refresh import summaries_refresh  # noqa: E402
from insurance.models import Policy  # noqa: E402
from orders.models import Campaign, Order  # noqa: E402
from shops.models import Seller, Shop  # noqa: E402

VAR = Path(settings.BASE_DIR, "var")


def _state(label: str) -> Path:
    return VAR / f"scale-{label}.json"


def load(*, label: str, lines: int, campaigns: int, buyer_orders: int) -> None:
    per_campaign = lines // campaigns
    sellers = []
    started = time.perf_counter()
    for n in range(campaigns):
        before = set(Seller.objects.values_list("pk", flat=True))
        simulate(
            Plan(
                orders=per_campaign,
                orders_per_buyer=min(buyer_orders, per_campaign) if n == 0 else 10,
                price_drop_share=0.3,
            )
        )
        (new,) = set(Seller.objects.values_list("pk", flat=True)) - before
        sellers.append(new)
        print(f"  campaign {n + 1}/{campaigns}: {per_campaign:,} lines", flush=True)
    target, others = sellers[0], sellers[1:]
    for model in (Shop, Campaign, Policy):
        model.objects.filter(seller_id__in=others).update(seller_id=target)
    # A review queue: some approved claims wait for staff.
    waiting = Claim.objects.filter(state=ClaimState.APPROVED, policy__seller_id=target).values("pk")[:200]
    Claim.objects.filter(pk__in=waiting).update(state=ClaimState.IN_REVIEW)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = summaries_refresh(full=True)
    rebuild = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seller = Seller.objects.get(pk=target)
    first_order = Order.objects.filter(campaign__seller=seller).order_by("pk").first()
    buyer = first_order.buyer
    admin, _created = get_user_model().objects.get_or_create(
        username="scale-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    state = {
        "lines": lines,
        "campaigns": campaigns,
        "seller_user": seller.user_id,
        "buyer": buyer.pk,
        "buyer_orders": Order.objects.filter(buyer=buyer).count(),
        # The newest insured order: its page shows the 保险服务 panel and the evidence candidates.
        "order": Order.objects.filter(buyer=buyer, lines__policy__isnull=False)
        .order_by("-pk")
        .first()
        .number,
        "admin": admin.pk,
        "load_seconds": round(loaded, 1),
        "summaries_rebuild_seconds": round(rebuild, 1),
        "rebuilt": rebuilt,
    }
    _state(label).write_text(json.dumps(state, indent=2))
    print(json.dumps(state, indent=2))


def _client(user_id: int) -> Client:
    user = get_user_model().objects.get(pk=user_id)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def _older(client: Client, path: str) -> str:
    page = client.get(path).content.decode()
    found = re.search(r'data-page="older" href="\?([^"]+)"', page)
    return f"{path}?{found.group(1).replace('&amp;', '&')}" if found else path


def measure(*, label: str, repeat: int) -> None:
    state = json.loads(_state(label).read_text())
    seller, buyer, admin = _client(state["seller_user"]), _client(state["buyer"]), _client(state["admin"])
    pages = [
        ("seller overview", seller, "/seller/"),
        ("seller exposure (htmx)", seller, "/seller/exposure/?drop=15"),
        ("campaigns and coverage", seller, "/seller/campaigns/"),
        ("seller orders", seller, "/seller/orders/"),
        ("seller orders, page 2", seller, _older(seller, "/seller/orders/")),
        ("seller orders, insured", seller, "/seller/orders/?insured=1"),
        ("seller claims", seller, "/seller/claims/"),
        ("catalog", seller, "/seller/catalog/"),
        ("seller deposit statement", seller, "/alipay/?account=deposit"),
        ("my orders", buyer, "/orders/"),
        ("my orders, page 2", buyer, _older(buyer, "/orders/")),
        ("order details", buyer, f"/orders/{state['order']}/"),
        ("Alipay balance", buyer, "/alipay/"),
        ("review queue", admin, "/admin/claims/claim/?state=in_review"),
        ("premiums vs payouts report", admin, "/admin/insurance/policy/report/"),
        ("admin claims", admin, "/admin/claims/claim/"),
        ("admin policies", admin, "/admin/insurance/policy/"),
        ("admin premiums", admin, "/admin/insurance/premium/"),
        ("admin orders", admin, "/admin/orders/order/"),
        ("admin ledger entries", admin, "/admin/alipay/entry/"),
    ]
    results = {}
    print(f"{label}: {state['lines']:,} lines, buyer with {state['buyer_orders']:,} orders")
    print(f"{'page':32} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, client, path in pages:
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        connection.queries_log.clear()  # with DEBUG on it is a full deque: its length would not move
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        results[name] = {
            "path": path,
            "queries": len(queries),
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
        }
        print(f"{name:32} {len(queries):>7} {p50:>8.1f} {p95:>8.1f}", flush=True)
    out = VAR / f"scale-measure-{label}.json"
    out.write_text(json.dumps({"state": state, "pages": results}, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    loading = sub.add_parser("load")
    loading.add_argument("--label", required=True)
    loading.add_argument("--lines", type=int, required=True)
    loading.add_argument("--campaigns", type=int, default=20)
    loading.add_argument("--buyer-orders", type=int, default=1000)
    measuring = sub.add_parser("measure")
    measuring.add_argument("--label", required=True)
    measuring.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.command == "load":
        load(label=args.label, lines=args.lines, campaigns=args.campaigns, buyer_orders=args.buyer_orders)
    else:
        measure(label=args.label, repeat=args.repeat)


if __name__ == "__main__":
    main()
