"""Scenario 4 (a part): the buyer's order page (/orders/<number>/) and the seller dashboard
(/seller/) — SQL queries per page as a buyer's and a shop's orders grow from 10 to 10,000, and
p50/p99 under concurrent users through gunicorn. ``bench/http.py`` runs it after scenario 3.

    python -m bench.pages                   # alone, with scripts/bench.sh's environment

1. ``prepare`` (Django, in its own process): for each size (10 and 10,000) a simulated campaign
   whose one buyer placed all of its orders in one seller's shop (a third with an approved
   claim); a session for that buyer and that seller, made directly in the session store, as a
   login would leave it; each page fetched in-process through Django's test client with the
   session's cookie, counting its queries (``CaptureQueriesContext``) against the bench database.
2. gunicorn (as in scenario 3) and a closed loop of ``--users`` concurrent users per page and
   size: requests/s, p50, p99 and CPU per request; any answer but 200 is an error.

The goal: the queries of each page are the same at 10,000 orders as at 10 (ratio 1.00).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.http import Gunicorn, _cpu_ms_per_request, _load_phase, _server_errors, _step

SIZES = (10, 10_000)
PAGES = ("order_detail", "seller_dashboard")
DEFAULTS = {"users": 8, "seconds": 10.0, "workers": 4}


def _session_cookie(user: Any) -> str:
    """A logged-in session for ``user``, made directly in the session store."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def pages_available() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("orders:detail", args=["x"]), reverse("insurance:dashboard")
    except NoReverseMatch:
        return False
    return True


def count_queries(cookie: str, path: str) -> int:
    """The SQL queries one GET of ``path`` makes, logged in by ``cookie``; it must answer 200."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_COOKIE=cookie)
    client.get(path)  # once to warm caches (content types, translations), as a running server has
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(queries)


def prepare(*, sizes: list[int], pages: str) -> dict:
    """Per size: the campaign, the two pages' paths and their query counts; each page's cookie
    and path are written to ``<pages>.<size>.<page>`` for the load."""
    from django.contrib.auth import get_user_model

    from bench import steps
    from orders.models import Order

    if not pages_available():
        return {"skipped": "this version has no web pages (orders:detail, insurance:dashboard)"}
    started = time.perf_counter()
    result: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        simulated = steps.simulate(orders=size, price_drop_share=1 / 3, orders_per_buyer=size)
        order = Order.objects.select_related("buyer", "campaign__seller__user").get(
            number=f"{simulated['prefix']}0"
        )
        insured = Order.objects.filter(buyer=order.buyer, campaign=order.campaign).count()
        assert insured == size, f"one buyer placed all {size} insured orders, not {insured}"
        buyer, seller = order.buyer, order.campaign.seller.user
        buyer = get_user_model().objects.get(pk=buyer.pk)
        paths = {
            "order_detail": (_session_cookie(buyer), f"/orders/{order.number}/"),
            "seller_dashboard": (_session_cookie(seller), "/seller/"),
        }
        result["sizes"][str(size)] = {
            "campaign": simulated["campaign"],
            "queries": {page: count_queries(cookie, path) for page, (cookie, path) in paths.items()},
            "paths": {page: path for page, (_cookie, path) in paths.items()},
        }
        for page, (cookie, path) in paths.items():
            Path(f"{pages}.{size}.{page}").write_text(f"{cookie}\t{path}\n")
    result["seconds"] = time.perf_counter() - started
    return result


def run(**overrides: Any) -> list[dict]:
    options = {**DEFAULTS, **overrides}
    print(
        f"scenario 4: the order page and the seller dashboard at {', '.join(f'{n:,}' for n in SIZES)} orders",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="baojia-bench-pages-") as tmp:
        pages = str(Path(tmp) / "pages")
        prepared = _step("prepare", module="bench.pages", sizes=list(SIZES), pages=pages)
        if "skipped" in prepared:
            print(f"  skipped: {prepared['skipped']}", flush=True)
            return []
        for size, found in prepared["sizes"].items():
            print(f"  {int(size):>6,} orders: queries {found['queries']}", flush=True)
        log = Path(tmp) / "gunicorn.log"
        loads = {}
        try:
            with Gunicorn(workers=options["workers"], worker_class="sync", threads=1, log=log) as server:
                for size in SIZES:
                    for page in PAGES:
                        for name, seconds in (("warmup", 2.0), ((size, page), options["seconds"])):
                            loads[name] = _load_phase(
                                server,
                                label=f"{page} at {size:,}" if name != "warmup" else "warmup",
                                targets=f"{pages}.{size}.{page}",
                                offset=0,
                                mode="closed",
                                seconds=seconds,
                                concurrency=options["users"],
                                action="page",
                            )
        finally:
            errors_logged = _server_errors(log)
    small, big = (prepared["sizes"][str(n)]["queries"] for n in SIZES)
    ratio = max(big[page] / small[page] for page in PAGES)
    errors = sum(loads[(size, page)]["errors"] for size in SIZES for page in PAGES)
    figures = {
        "queries_per_page": {
            page: {f"{n:,} orders": prepared["sizes"][str(n)]["queries"][page] for n in SIZES}
            for page in PAGES
        },
        "concurrent_users": options["users"],
        "server": f"{options['workers']} sync workers",
        **{
            page: {
                f"{size:,} orders": {
                    "path": prepared["sizes"][str(size)]["paths"][page],
                    "requests_per_second": loads[(size, page)]["claims_per_second"],
                    "p50_ms": loads[(size, page)]["latency"].get("p50_ms"),
                    "p99_ms": loads[(size, page)]["latency"].get("p99_ms"),
                    "errors": loads[(size, page)]["errors"],
                    "error_samples": loads[(size, page)]["error_samples"],
                    "cpu_ms_per_request": _cpu_ms_per_request(loads[(size, page)]),
                }
                for size in SIZES
            }
            for page in PAGES
        },
        "server_errors_logged": errors_logged[:5],
    }
    return [
        {
            "name": f"order page and seller dashboard: queries per page at {SIZES[0]:,} → {SIZES[-1]:,} orders",
            "figures": figures,
            "baseline": {
                "what": f"queries per page at {SIZES[0]:,} orders per buyer and shop",
                "queries": small,
            },
            "ratio": round(ratio, 2),
            "goal": f"queries at {SIZES[-1]:,} = at {SIZES[0]:,} (ratio 1); 0 errors",
            "met": ratio == 1 and errors == 0,
        }
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step", choices=["prepare"], help=argparse.SUPPRESS)
    parser.add_argument("options", nargs="?", default="{}", help=argparse.SUPPRESS)
    for name, default in DEFAULTS.items():
        parser.add_argument(f"--{name}", type=type(default), default=None)
    args = parser.parse_args(argv)
    if args.step:
        from bench.steps import setup

        setup()
        print(json.dumps(prepare(**json.loads(args.options)), default=str))
        return
    overrides = {name: getattr(args, name) for name in DEFAULTS if getattr(args, name) is not None}
    print(json.dumps(run(**overrides), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
