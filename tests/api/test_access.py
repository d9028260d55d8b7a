"""Every endpoint for every role: who may read or act, and that anyone else gets 401, 403 or 404.

Anonymous requests are 401 (token authentication comes first, so DRF can offer a
``WWW-Authenticate: Token`` challenge). Seller endpoints are 403 ``not_a_seller`` for users without
a seller account. Another user's object is always 404, never 403.
"""

import pytest

from claims.models import Payout, PriceDrop
from insurance.models import Policy
from notices.models import Notice
from tests.api.conftest import ROLES, error_of

V1 = "/api/v1"

# (method, path template, body, {role: status}); roles not listed are 401 for anon, else 200.
READS = [
    ("get", "/me/", {}),
    ("get", "/addresses/", {}),
    (
        "get",
        "/addresses/{address}/",
        {"bob": 404, "seller_a": 404, "seller_b": 404, "staff": 404, "staff_b": 404},
    ),
    ("get", "/orders/", {}),
    ("get", "/orders/{order}/", {"bob": 404, "seller_a": 404, "seller_b": 404, "staff": 404, "staff_b": 404}),
    ("get", "/claims/", {}),
    # Staff read their own insurer's claims; an officer of another insurer gets a 404.
    ("get", "/claims/{claim}/", {"bob": 404, "seller_a": 404, "seller_b": 404, "staff_b": 404}),
    ("get", "/price-drops/", {}),
    ("get", "/notices/", {}),
    ("get", "/alipay/balance/", {}),
    ("get", "/alipay/entries/", {}),
    ("get", "/insurers/", {}),
    ("get", "/insurers/{insurer}/", {}),
    ("get", "/storefront/campaign-items/", {"anon": 200}),
    ("get", "/storefront/campaign-items/{live_item}/", {"anon": 200}),
]
NOT_SELLER = {"alice": 403, "bob": 403, "staff": 403, "staff_b": 403}
SELLER_READS = [
    ("get", "/seller/shops/", NOT_SELLER),
    ("get", "/seller/shops/{shop}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/listings/", NOT_SELLER),
    ("get", "/seller/listings/{listing}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/skus/", NOT_SELLER),
    ("get", "/seller/skus/{sku}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/campaigns/", NOT_SELLER),
    ("get", "/seller/campaigns/{campaign}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/campaign-items/", NOT_SELLER),
    ("get", "/seller/campaign-items/{item}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/campaign-items/{item}/products/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/orders/", NOT_SELLER),
    ("get", "/seller/orders/{order}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/policies/", NOT_SELLER),
    ("get", "/seller/policies/{policy}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/claims/", NOT_SELLER),
    ("get", "/seller/claims/{claim}/", {**NOT_SELLER, "seller_b": 404}),
    ("get", "/seller/payouts/", NOT_SELLER),
    ("get", "/seller/payouts/{payout}/", {**NOT_SELLER, "seller_b": 404}),
]
# Acting on another user's object: the owner's own calls are tested with each endpoint.
OTHERS = {"bob": 404, "seller_a": 404, "seller_b": 404, "staff": 404, "staff_b": 404}
FILE_CLAIM = {"order": "{order}", "line": "{line}", "evidence_order_number": "{evidence}"}
WRITES = [
    ("post", "/orders/{order}/pay/", None, OTHERS),
    ("post", "/orders/{order}/confirm-receipt/", None, OTHERS),
    ("post", "/orders/{order}/cancel/", None, OTHERS),
    ("post", "/claims/", FILE_CLAIM, OTHERS),
    ("post", "/price-drops/{drop}/claim/", None, OTHERS),
    ("post", "/notices/{notice}/read/", None, OTHERS),
    ("patch", "/seller/skus/{sku}/", {"price_fen": 100}, {**NOT_SELLER, "seller_b": 404}),
    (
        "post",
        "/seller/campaign-items/{item}/coverage-on/",
        {},
        {**NOT_SELLER, "seller_b": 404},
    ),
    ("post", "/seller/campaign-items/{item}/coverage-off/", {}, {**NOT_SELLER, "seller_b": 404}),
    ("post", "/seller/orders/{order}/ship/", None, {**NOT_SELLER, "seller_b": 404}),
]


def _ids(world, scene) -> dict[str, object]:
    return {
        "address": scene.address.pk,
        "order": scene.order.number,
        "line": scene.order.lines.get().pk,
        "evidence": scene.evidence.number,
        "claim": scene.claim.number,
        "insurer": world.product.insurer_id,
        "item": world.item.pk,
        "live_item": scene.seller_b.campaigns.get().items.get().pk,  # the world's campaign has ended
        "shop": world.tmall.pk,
        "listing": world.sku.listing_id,
        "sku": world.sku.pk,
        "campaign": world.campaign.pk,
        "policy": Policy.objects.get(order_line__order=scene.order).number,
        "payout": Payout.objects.get(claim=scene.claim).pk,
        "drop": PriceDrop.objects.get(policy__order_line__order=scene.order).pk,
        "notice": Notice.objects.filter(user=world.alice).order_by("pk").first().pk,
    }


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value in ("{line}", "{insurer}") else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _expected(role: str, overrides: dict[str, int]) -> int:
    return overrides.get(role, 401 if role == "anon" else 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "overrides"), READS + SELLER_READS, ids=lambda v: str(v))
def test_it_scopes_every_read_to_the_caller(world, scene, clients, role, method, path, overrides):
    response = getattr(clients[role], method)(V1 + _fill(path, _ids(world, scene)))
    expected = _expected(role, overrides)
    assert response.status_code == expected, response.content
    if expected == 401:
        assert error_of(response) == (401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"
    elif expected == 403:
        assert error_of(response) == (403, "not_a_seller")
    elif expected == 404:
        assert error_of(response) == (404, "not_found")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "alice" and r != "seller_a"])
@pytest.mark.parametrize(("method", "path", "body", "overrides"), WRITES, ids=lambda v: str(v))
def test_it_refuses_to_act_on_another_users_object(
    world, scene, clients, role, method, path, body, overrides
):
    ids = _ids(world, scene)
    response = getattr(clients[role], method)(V1 + _fill(path, ids), _fill(body, ids), format="json")
    expected = 401 if role == "anon" else overrides[role]
    assert error_of(response)[0] == expected, response.content
    scene.order.refresh_from_db()
    assert scene.order.state == "succeeded"


@pytest.mark.parametrize("role", ["bob", "seller_b", "staff", "staff_b"])
def test_lists_hold_only_the_callers_own_objects(world, scene, clients, role):
    own_addresses = [world.bob_address.pk] if role == "bob" else []
    assert [a["id"] for a in clients[role].get(f"{V1}/addresses/").json()["results"]] == own_addresses
    assert clients[role].get(f"{V1}/orders/").json()["count"] == 0
    expected_claims = 1 if role == "staff" else 0  # staff read their own insurer's claims only
    assert clients[role].get(f"{V1}/claims/").json()["count"] == expected_claims


def test_seller_lists_hold_only_their_own_objects(world, scene, clients):
    a, b = clients["seller_a"], clients["seller_b"]
    assert {s["id"] for s in a.get(f"{V1}/seller/shops/").json()["results"]} == {
        world.tmall.pk,
        world.taobao.pk,
    }
    assert [s["name"] for s in b.get(f"{V1}/seller/shops/").json()["results"]] == ["华为官方旗舰店"]
    for path in ("orders", "policies", "claims", "payouts"):
        assert a.get(f"{V1}/seller/{path}/").json()["count"] >= 1, path
        assert b.get(f"{V1}/seller/{path}/").json()["count"] == 0, path
    assert b.get(f"{V1}/seller/campaign-items/").json()["count"] == 1
    assert b.get(f"{V1}/seller/skus/").json()["count"] == 1


def test_session_authentication_works_too(world, client):
    client.force_login(world.alice)
    response = client.get(f"{V1}/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": world.alice.pk,
        "username": "alice",
        "is_seller": False,
        "is_staff": False,
        "auto_claim": True,
    }


def test_session_posts_need_the_csrf_token(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.alice)
    response = client.post(f"{V1}/orders/", {}, format="json")
    assert error_of(response) == (403, "permission_denied")
