"""The data and sessions of the pages scenario (bench/pages.py), as steps in a Django process:
a seller with N insured lines over 20 campaigns, one of whose buyers placed 1,000 of them, with
claims in every state (approved ones settled, some in staff review); logged-in sessions for that
seller, that buyer and a staff user; and each page's path, answer and query count.

Pages are driven by URL only (their code may move between apps: the URLs stay), except the
admin's report pages, found among the admin's own URL patterns by name ("…report…").
"""

import time
from pathlib import Path
from typing import Any

CAMPAIGNS = 20
STAFF_USERNAME = "bench-staff"
# (key, who looks at it, path or None when it depends on the data); the admin's reports follow.
PAGES = [
    ("seller_overview", "seller", "/seller/"),
    ("seller_campaigns", "seller", "/seller/campaigns/"),
    ("seller_orders", "seller", "/seller/orders/"),
    ("seller_claims", "seller", "/seller/claims/"),
    ("seller_catalog", "seller", "/seller/catalog/"),
    ("buyer_orders", "buyer", "/orders/"),
    ("order_detail", "buyer", None),
    ("alipay_balance", "buyer", "/alipay/"),
    ("admin_review_queue", "staff", "/admin/claims/claim/?state=in_review"),
    ("admin_claim_review", "staff", None),
]


def session_cookie(user: Any) -> str:
    """A logged-in session for ``user``, made directly in the session store, as a login leaves it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def admin_reports() -> list[tuple[str, str]]:
    """(key, path) of every admin view named like a report that takes no argument, wherever it
    is registered (e.g. /admin/insurance/policy/report/)."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    found = []
    for model_admin in admin.site._registry.values():
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None) or ""
            if "report" not in name:
                continue
            try:
                found.append((f"admin_{name}", reverse(f"admin:{name}")))
            except NoReverseMatch:
                continue  # a report of one object: not a page of the queue
    return sorted(set(found))


def _staff() -> Any:
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=STAFF_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _data_paths(simulated: dict) -> dict[str, str]:
    """The pages that depend on the data: the heavy buyer's order with a paid claim, and a claim
    in staff review."""
    from claims.models import Claim, ClaimState

    mine = Claim.objects.filter(policy__coverage__campaign_item__campaign_id__in=simulated["campaigns"])
    paid = mine.filter(buyer_id=simulated["first_buyer"], state=ClaimState.PAID).order_by("pk").first()
    paid = paid or mine.filter(buyer_id=simulated["first_buyer"]).order_by("pk").first()
    review = mine.filter(state=ClaimState.IN_REVIEW).order_by("pk").first()
    paths = {}
    if paid is not None:
        paths["order_detail"] = f"/orders/{paid.policy.order_line.order.number}/"
    if review is not None:
        paths["admin_claim_review"] = f"/admin/claims/claim/{review.pk}/change/"
    return paths


def count_queries(cookie: str, path: str, top: int = 5) -> dict:
    """One GET of ``path`` logged in by ``cookie``, after a first GET that warms what a running
    server has warm (content types, translations, templates): its status, its SQL queries, and
    the slowest of them with their share of the page's time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_COOKIE=cookie)
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    timed = sorted(((float(q["time"]), q["sql"]) for q in queries.captured_queries), reverse=True)
    return {
        "status": response.status_code,
        "queries": len(timed),
        "seconds": round(seconds, 3),
        "sql_seconds": round(sum(t for t, _sql in timed), 3),
        "slowest_sql": [{"seconds": t, "sql": " ".join(sql.split())[:300]} for t, sql in timed[:top]],
    }


def prepare(*, size: int, buyer_orders: int, targets: str) -> dict:
    """*Step.* Simulate, settle, log in, and write each page's ``cookie<TAB>path`` to
    ``<targets>.<key>``. Returns the pages with their paths, statuses and query counts."""
    from django.contrib.auth import get_user_model

    from bench.simulate import step as simulate
    from claims.services import claims_settle
    from claims.summaries.refresh import summaries_refresh

    started = time.perf_counter()
    simulated = simulate(
        orders=size,
        campaigns=min(CAMPAIGNS, size),
        heavy_buyer_orders=min(buyer_orders, size),
        price_drop_share=0.3,
        claims_share=0.1,
        review_share=0.1,
        premium_rows=True,
    )
    paid = claims_settle()
    summaries_refresh(full=True)  # the pre-aggregated tallies, after a bulk import (as beat would)
    users = get_user_model().objects.in_bulk([simulated["seller_user"], simulated["first_buyer"]])
    cookies = {
        "seller": session_cookie(users[simulated["seller_user"]]),
        "buyer": session_cookie(users[simulated["first_buyer"]]),
        "staff": session_cookie(_staff()),
    }
    data_paths = _data_paths(simulated)
    pages = [(key, who, path or data_paths.get(key)) for key, who, path in PAGES]
    pages += [(key, "staff", path) for key, path in admin_reports()]
    found = {}
    for key, who, path in pages:
        if path is None:
            found[key] = {"skipped": "no such object in the simulated data"}
            continue
        found[key] = {"path": path, "who": who, **count_queries(cookies[who], path)}
        Path(f"{targets}.{key}").write_text(f"{cookies[who]}\t{path}\n")
    return {
        "campaigns": len(simulated["campaigns"]),
        "claims": simulated["claims"],
        "in_review": simulated["in_review"],
        "settled": paid,
        "buyer_orders": min(buyer_orders, size),
        "pages": found,
        "seconds": round(time.perf_counter() - started, 1),
    }
