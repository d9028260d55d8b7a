"""Lists take a fixed number of queries, however many rows they show (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import ClaimState
from claims.services import claim_file
from orders.services import order_place
from tests.api.conftest import client_for

LISTS = [
    ("seller_a", "/api/v1/seller/orders/"),
    ("seller_a", "/api/v1/seller/policies/"),
    ("seller_a", "/api/v1/seller/claims/"),
    ("seller_a", "/api/v1/seller/payouts/"),
    ("seller_a", "/api/v1/seller/campaign-items/"),
    ("seller_a", "/api/v1/seller/campaigns/"),
    ("seller_a", "/api/v1/seller/listings/"),
    ("seller_a", "/api/v1/seller/skus/"),
    ("staff", "/api/v1/claims/"),
    ("staff", "/api/v1/storefront/campaign-items/"),
]


@pytest.fixture
def bob_order(world):
    """Bob buys the insured SKU during the campaign (before the scene ends it)."""
    return world.buy(world.bob)


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_lists_do_not_grow_with_their_rows(
    world, bob_order, scene, staff, django_capture_on_commit_callbacks
):
    clients = {"seller_a": client_for(world.seller.user), "staff": client_for(staff)}
    before = {path: _count(clients[role], path) for role, path in LISTS}

    evidence = order_place(buyer=world.bob, address=world.bob_address, items=[(world.other_shop_sku, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(
            order_line=bob_order.lines.get(), evidence_order_number=evidence.number, buyer=world.bob
        )
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert clients["seller_a"].get("/api/v1/seller/payouts/").json()["count"] == 2

    after = {path: _count(clients[role], path) for role, path in LISTS}
    assert after == before
