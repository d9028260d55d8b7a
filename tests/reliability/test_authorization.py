"""The authorization matrix: every web page and action × every role, with the status each must get.

Another user's object is always a 404 — never a 403 that would confirm it exists. Pages of a role
the user does not have (a buyer on the seller dashboard) are a 403; anonymous visitors are sent to
log in. The API has its own matrix in tests/api/test_access.py; the last test here checks that
the two together cover every route the project serves.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from claims.models import PriceDrop
from notices.models import Notice
from tests.api import test_access
from tests.factories import UserFactory

ROLES = ["anon", "alice", "bob", "seller_a", "seller_b", "staff", "staff_b", "superuser"]
EVERYONE = dict.fromkeys(ROLES, 200)
LOGGED_IN = {"anon": 302, **dict.fromkeys(ROLES[1:], 200)}
SELLERS_ONLY = {
    "anon": 302,
    "alice": 403,
    "bob": 403,
    "seller_a": 200,
    "seller_b": 200,
    "staff": 403,
    "staff_b": 403,
    "superuser": 403,
}
# Alice's order (in seller A's shop): only alice sees it; to everybody else it does not exist.
ALICES = {
    "anon": 302,
    "alice": 200,
    "bob": 404,
    "seller_a": 404,
    "seller_b": 404,
    "staff": 404,
    "staff_b": 404,
    "superuser": 404,
}
# Seller A's order or campaign item: seller A acts, seller B gets a 404, other roles a 403.
SELLER_AS = {**SELLERS_ONLY, "seller_a": 302, "seller_b": 404}
REDIRECTS = dict.fromkeys(ROLES, 302)

WEB = [
    ("get", "/", REDIRECTS),  # each role is sent to its home
    ("get", "/login/", {**REDIRECTS, "anon": 200}),
    ("post", "/logout/", REDIRECTS),
    ("get", "/i18n/setlang/", REDIRECTS),
    ("get", "/shop/", EVERYONE),
    ("get", "/shop/campaigns/{campaign}/", EVERYONE),
    ("get", "/shop/items/{listing}/", EVERYONE),
    ("get", "/orders/checkout/?sku={sku}&quantity=1", LOGGED_IN),
    ("get", "/orders/checkout/quote/?sku={sku}&quantity=1", LOGGED_IN),
    ("get", "/orders/addresses/new/", {**dict.fromkeys(ROLES, 405), "anon": 302}),  # a POST-only form
    ("get", "/orders/", LOGGED_IN),
    ("get", "/orders/{order}/", ALICES),
    ("post", "/orders/{order}/pay/", {**ALICES, "alice": 302}),
    ("post", "/orders/{order}/cancel/", {**ALICES, "alice": 400}),  # paid: no longer cancellable
    ("post", "/orders/{order}/confirm/", {**ALICES, "alice": 302}),
    ("get", "/orders/{order}/lines/{line}/insurance/", ALICES),
    ("post", "/orders/{order}/lines/{line}/claim/", {**ALICES, "alice": 400}),  # no evidence number given
    # alice's drop was claimed with an evidence order already: 一键理赔 leaves it as it is
    ("post", "/orders/{order}/lines/{line}/one-click/", {**ALICES, "alice": 302}),
    ("get", "/drops/{drop}/", {**ALICES, "alice": 302}),
    ("get", "/notices/", LOGGED_IN),
    ("get", "/notices/{notice}/", {**ALICES, "alice": 302}),
    ("post", "/notices/read-all/", {**REDIRECTS}),
    ("post", "/settings/auto-claim/", {**REDIRECTS}),
    ("get", "/alipay/", LOGGED_IN),
    ("get", "/alipay/top-up/", {**dict.fromkeys(ROLES, 405), "anon": 302}),
    ("get", "/seller/", SELLERS_ONLY),
    ("get", "/seller/exposure/?percent=10", SELLERS_ONLY),
    ("get", "/seller/deposit/", {**SELLERS_ONLY, "seller_a": 405, "seller_b": 405}),
    ("get", "/seller/campaigns/", SELLERS_ONLY),
    ("post", "/seller/campaign-items/{item}/coverage/", SELLER_AS),
    ("get", "/seller/orders/", SELLERS_ONLY),
    ("post", "/seller/orders/{order}/ship/", SELLER_AS),
    ("get", "/seller/claims/", SELLERS_ONLY),
    ("get", "/seller/catalog/", SELLERS_ONLY),
    ("get", "/api/schema/", EVERYONE),
    ("get", "/api/docs/", EVERYONE),
    # The API's login takes JSON only: a browser form post is refused whoever sends it.
    ("post", "/api/v1/auth/token/", dict.fromkeys(ROLES, 415)),
]


@pytest.fixture
def web_clients(world, scene, staff, staff_b) -> dict[str, Client]:
    users = {
        "alice": world.alice,
        "bob": world.bob,
        "seller_a": world.seller.user,
        "seller_b": scene.seller_b.user,
        "staff": staff,
        "staff_b": staff_b,
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    clients = {"anon": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


@pytest.mark.parametrize(("method", "path", "expected"), WEB, ids=[f"{m} {p}" for m, p, _e in WEB])
def test_every_page_answers_each_role_as_it_must(world, scene, web_clients, method, path, expected):
    ids = {
        "campaign": world.campaign.pk,
        "listing": world.sku.listing_id,
        "sku": world.sku.pk,
        "order": scene.order.number,
        "line": scene.order.lines.get().pk,
        "item": world.item.pk,
        "drop": PriceDrop.objects.get(policy__order_line__order=scene.order).pk,
        "notice": Notice.objects.filter(user=world.alice).order_by("pk").first().pk,
    }
    url = path.format(**ids)
    got = {role: getattr(web_clients[role], method)(url).status_code for role in ROLES}
    assert got == expected
    if expected["anon"] == 302 and path not in ("/", "/logout/", "/i18n/setlang/"):
        assert web_clients["anon"].get(url)["Location"].startswith("/login/")


# The insurer's admin, for the world's insurer's rows: its own officer reads them, an officer of
# another insurer gets a 404 as if they did not exist, people who are not staff are sent to log in.
STAFF_ONLY = {**dict.fromkeys(ROLES, 302), "staff": 200, "staff_b": 200, "superuser": 200}
WORLD_INSURERS = {**STAFF_ONLY, "staff_b": 404}
ADMIN = [
    ("get", "/admin/", STAFF_ONLY),
    ("get", "/admin/claims/claim/", STAFF_ONLY),
    ("get", "/admin/claims/claim/{claim}/change/", WORLD_INSURERS),
    ("get", "/admin/claims/claim/{claim}/history/", WORLD_INSURERS),
    ("get", "/admin/claims/payout/{payout}/change/", WORLD_INSURERS),
    ("get", "/admin/insurance/policy/{policy}/change/", WORLD_INSURERS),
    ("get", "/admin/insurance/premium/{premium}/change/", WORLD_INSURERS),
    ("get", "/admin/insurance/coverage/{coverage}/change/", WORLD_INSURERS),
    ("get", "/admin/insurance/insurer/{insurer}/change/", WORLD_INSURERS),
    ("get", "/admin/insurance/insuranceproduct/{product}/change/", WORLD_INSURERS),
    ("get", "/admin/claims/claim/reports/loss/", STAFF_ONLY),
    ("get", "/admin/claims/claim/reports/turnaround/", STAFF_ONLY),
]


@pytest.mark.parametrize(("method", "path", "expected"), ADMIN, ids=[f"{m} {p}" for m, p, _e in ADMIN])
def test_the_insurers_admin_answers_each_role_as_it_must(world, scene, web_clients, method, path, expected):
    policy = scene.claim.policy
    ids = {
        "claim": scene.claim.pk,
        "payout": scene.claim.payout.pk,
        "policy": policy.pk,
        "premium": policy.premiums.get().pk,
        "coverage": world.coverage.pk,
        "insurer": world.product.insurer_id,
        "product": world.product.pk,
    }
    url = path.format(**ids)
    got = {role: getattr(web_clients[role], method)(url).status_code for role in ROLES}
    assert got == expected


def _routes(patterns, prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue  # the admin has its own tests (tests/admin)
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append(prefix + str(pattern.pattern))
    return found


def _as_regex(route: str) -> re.Pattern:
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "[^/]+", route)
    route = re.sub(r"<(?:\w+:)?\w+>", "[^/]+", route)
    return re.compile(f"^{route}$")


def test_the_two_matrices_cover_every_route_the_project_serves():
    served = _routes(get_resolver().url_patterns)
    api = [
        f"api/v1{path}" for table in (test_access.READS, test_access.SELLER_READS) for _m, path, _e in table
    ]
    api += [f"api/v1{path}" for _m, path, _b, _e in test_access.WRITES]
    web = [path.lstrip("/").split("?")[0] for _m, path, _e in WEB]
    tested = [re.sub(r"\{\w+\}", "x", path) for path in api + web]
    uncovered = [route for route in served if not any(_as_regex(route).match(t) for t in tested)]
    assert uncovered == [], f"routes without an authorization test: {uncovered}"
