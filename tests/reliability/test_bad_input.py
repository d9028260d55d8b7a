"""Hostile and malformed input to every form and endpoint: a clear error, no 500, nothing changed.

Each row sends one bad value where a buyer or seller types or posts; afterwards the rows that
value could have touched (orders, claims, ledger entries, prices) are exactly as they were.
"""

import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from alipay.models import Entry
from claims.models import Claim
from orders.models import Order
from shops.models import Sku
from tests.factories import UserFactory

HOSTILE_TEXT = [
    "",
    "   ",
    "9" * 10_000,
    "1; DROP TABLE orders_order; --",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "\u0000",
    "🙂🙂🙂",
    "-1",
]
BAD_QUANTITIES = [0, -1, 1.5, "1e3", "abc", 10**9, None, True, "", [1], {"n": 1}]
BAD_YUAN = ["", "-1", "0", "1.234", "abc", "1e5", "99999999999999", "１,０００", "<b>1</b>", "NaN", "inf"]


def snapshot() -> tuple:
    return (
        Order.objects.count(),
        Claim.objects.count(),
        Entry.objects.count(),
        tuple(Sku.objects.order_by("pk").values_list("price_fen", flat=True)),
    )


@pytest.fixture
def alice_api(world) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.alice)
    return client


@pytest.fixture
def seller_api(world) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.seller.user)
    return client


def _error(response, statuses=(400, 404, 409)) -> str:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] and body["detail"], body
    return body["code"]


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=lambda v: repr(v)[:20])
def test_the_claim_api_refuses_a_hostile_evidence_number(world, insured_line, alice_api, value):
    before = snapshot()
    body = {"order": insured_line.order.number, "line": insured_line.pk, "evidence_order_number": value}
    assert _error(alice_api.post("/api/v1/claims/", body, format="json")) in {
        "invalid",
        "invalid_evidence_number",
    }
    assert snapshot() == before


def test_the_claim_api_refuses_another_buyers_line_as_not_found(world, insured_line, place_evidence):
    bob = APIClient()
    bob.force_authenticate(world.bob)
    body = {
        "order": insured_line.order.number,
        "line": insured_line.pk,
        "evidence_order_number": place_evidence().number,
    }
    before = snapshot()
    assert _error(bob.post("/api/v1/claims/", body, format="json"), (404,)) == "not_found"
    assert snapshot() == before


def test_full_width_digits_in_the_evidence_number_are_read_as_digits(
    world, insured_line, place_evidence, alice_api, django_capture_on_commit_callbacks
):
    evidence = place_evidence()
    full_width = evidence.number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    body = {"order": insured_line.order.number, "line": insured_line.pk, "evidence_order_number": full_width}
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post("/api/v1/claims/", body, format="json")
    assert response.status_code == 201
    assert Claim.objects.get().evidence_order_number == evidence.number


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=repr)
def test_the_order_api_refuses_a_bad_quantity(world, alice_api, quantity):
    before = snapshot()
    body = {"address": world.alice_address.pk, "items": [{"sku": world.sku.pk, "quantity": quantity}]}
    _error(alice_api.post("/api/v1/orders/", body, format="json"))
    assert snapshot() == before


@pytest.mark.parametrize("sku", [0, -5, 10**12, "abc", None])
def test_the_order_api_refuses_a_sku_that_does_not_exist(world, alice_api, sku):
    before = snapshot()
    body = {"address": world.alice_address.pk, "items": [{"sku": sku, "quantity": 1}]}
    _error(alice_api.post("/api/v1/orders/", body, format="json"))
    assert snapshot() == before


def test_the_order_api_refuses_another_buyers_address(world, alice_api):
    before = snapshot()
    body = {"address": world.bob_address.pk, "items": [{"sku": world.sku.pk, "quantity": 1}]}
    _error(alice_api.post("/api/v1/orders/", body, format="json"))
    assert snapshot() == before


@pytest.mark.parametrize("price", [0, -1, 1.5, "abc", 10**13, None, True])
def test_the_price_api_refuses_a_bad_price(world, seller_api, price):
    before = snapshot()
    _error(seller_api.patch(f"/api/v1/seller/skus/{world.sku.pk}/", {"price_fen": price}, format="json"))
    assert snapshot() == before


def test_the_api_refuses_a_body_that_is_not_json(world, alice_api):
    before = snapshot()
    response = alice_api.post("/api/v1/claims/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"]
    assert snapshot() == before


@pytest.fixture
def alice_web(world) -> Client:
    client = Client()
    client.force_login(world.alice)
    return client


@pytest.fixture
def seller_web(world) -> Client:
    client = Client()
    client.force_login(world.seller.user)
    return client


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=lambda v: repr(v)[:20])
def test_the_claim_form_shows_why_a_hostile_evidence_number_is_refused(world, insured_line, alice_web, value):
    before = snapshot()
    url = f"/orders/{insured_line.order.number}/lines/{insured_line.pk}/claim/"
    response = alice_web.post(url, {"evidence_order_number": value})
    assert response.status_code == 400
    assert b'data-error-for="evidence_order_number"' in response.content  # the reason, next to the field
    assert snapshot() == before


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "1000000", ""])
def test_the_checkout_form_refuses_a_bad_quantity(world, alice_web, quantity):
    before = snapshot()
    response = alice_web.post(
        "/orders/checkout/", {"sku": world.sku.pk, "quantity": quantity, "address": world.alice_address.pk}
    )
    assert response.status_code == 400
    assert "quantity" in response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize("amount", BAD_YUAN)
def test_the_top_up_form_refuses_a_bad_amount(world, alice_web, amount):
    before = snapshot()
    response = alice_web.post("/alipay/top-up/", {"amount": amount, "key": str(uuid.uuid4())})
    assert response.status_code in (200, 302, 400)
    assert Entry.objects.count() == before[2], f"{amount!r} moved money"


@pytest.mark.parametrize("price", BAD_YUAN)
def test_the_price_form_refuses_a_bad_price(world, seller_web, price):
    before = snapshot()
    response = seller_web.post("/seller/catalog/", {"form": "price", "sku": world.sku.pk, "price": price})
    assert response.status_code in (200, 400)
    assert snapshot() == before


def test_a_claim_filed_after_the_window_is_refused_with_its_reason(
    world, alice_api, place_evidence, django_capture_on_commit_callbacks
):
    order = world.buy()
    world.end_campaign(days_ago=16)
    body = {
        "order": order.number,
        "line": world.line(order).pk,
        "evidence_order_number": place_evidence().number,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post("/api/v1/claims/", body, format="json")
    assert response.status_code == 201  # stored, then decided: the buyer sees why
    claim = Claim.objects.get(number=response.json()["number"])
    failed = {c["code"] for c in claim.checks if c["result"] == "failed"}
    assert claim.state == "rejected"
    assert "window_closed" in failed


@pytest.fixture
def unthrottled(settings):
    """Fuzzing sends more claims a minute than a buyer may: lift the throttle for it."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "claims": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(
    value=st.one_of(
        st.text(max_size=80), st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=3)
    )
)
def test_fuzzed_evidence_numbers_never_break_the_claim_api(
    world, insured_line, alice_api, unthrottled, value
):
    body = {"order": insured_line.order.number, "line": insured_line.pk, "evidence_order_number": value}
    response = alice_api.post("/api/v1/claims/", json.dumps(body), content_type="application/json")
    assert response.status_code in (201, 400, 409), response.content[:300]
    assert response.json()


@FUZZ
@given(
    quantity=st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=12), st.none()),
    sku=st.one_of(st.integers(), st.text(max_size=8)),
)
def test_fuzzed_orders_never_break_the_order_api(world, alice_api, quantity, sku):
    body = {"address": world.alice_address.pk, "items": [{"sku": sku, "quantity": quantity}]}
    response = alice_api.post("/api/v1/orders/", json.dumps(body), content_type="application/json")
    assert response.status_code in (201, 400, 404, 409), response.content[:300]
    assert response.json()


def test_a_staff_user_without_the_review_permission_cannot_use_the_api_to_review(world):
    clerk = APIClient()
    clerk.force_authenticate(UserFactory(username="clerk", is_staff=True))
    assert clerk.post("/api/v1/claims/", {}, format="json").status_code in (400, 404)
