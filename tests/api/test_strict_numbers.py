"""Ids, quantities and amounts over the API are whole numbers in ASCII digits. ``1.5`` is not
truncated to 1 and ``"１"`` (full-width) is not read as 1: each is refused, naming the field, with
the parser's translated message, and nothing changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alipay.models import Entry
from claims.models import Claim
from core.numbers import NOT_AN_INTEGER
from insurance.models import Coverage
from orders.models import Order
from shops.models import Sku
from shops.services import coupon_issue
from tests.api.conftest import client_for, error_of

V1 = "/api/v1"


def full_width(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def snapshot() -> tuple:
    return (
        Order.objects.count(),
        Claim.objects.count(),
        Entry.objects.count(),
        tuple(Sku.objects.order_by("pk").values_list("price_fen", flat=True)),
        tuple(Coverage.objects.order_by("pk").values_list("enabled", "product_id")),
    )


def assert_refused(response, field: str) -> None:
    assert error_of(response) == (400, "invalid"), response.content[:300]
    detail = response.json()["detail"]
    assert detail.startswith(field) and str(NOT_AN_INTEGER) in detail, detail


def order_body(world, *, address=None, sku=None, quantity=1, **extra) -> dict:
    return {
        "address": world.alice_address.pk if address is None else address,
        "items": [{"sku": world.sku.pk if sku is None else sku, "quantity": quantity}],
        **extra,
    }


def test_the_issues_example_is_refused_not_truncated(world):
    # Before: {"address": 1.5, "items": [{"sku": 1.5, …}]} placed an order for address 1 and SKU 1.
    before = snapshot()
    body = order_body(world, address=1.5, sku=1.5)
    response = client_for(world.alice).post(f"{V1}/orders/", body, format="json")
    assert error_of(response) == (400, "invalid")
    assert set(response.json()["errors"]) == {"address", "items"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("address", lambda world: full_width(world.alice_address.pk)),
        ("items.0.sku", lambda world: full_width(world.sku.pk)),
        ("items.0.sku", lambda world: float(world.sku.pk)),
        ("items.0.quantity", lambda world: "１"),
        ("items.0.quantity", lambda world: 1.0),
        ("items.0.quantity", lambda world: True),
    ],
    ids=[
        "address-full-width",
        "sku-full-width",
        "sku-float",
        "quantity-full-width",
        "quantity-1.0",
        "quantity-true",
    ],
)
def test_the_order_api_refuses_an_id_or_quantity_that_is_not_a_plain_integer(world, field, bad):
    before = snapshot()
    key = field.rsplit(".", 1)[-1]
    body = order_body(world, **{key: bad(world)})
    assert_refused(client_for(world.alice).post(f"{V1}/orders/", body, format="json"), field)
    assert snapshot() == before


def test_the_order_api_refuses_a_coupon_id_with_a_fraction(world):
    coupon = coupon_issue(
        shop=world.tmall, name="店铺券", amount_fen=1_000, valid_until=timezone.now() + timedelta(days=1)
    )
    before = snapshot()
    body = order_body(world, shop_coupon=coupon.pk + 0.5)
    assert_refused(client_for(world.alice).post(f"{V1}/orders/", body, format="json"), "shop_coupon")
    assert snapshot() == before


@pytest.mark.parametrize("line", [full_width, float], ids=["full-width", "float"])
def test_the_claim_api_refuses_a_line_id_that_is_not_a_plain_integer(
    world, insured_line, place_evidence, line
):
    before = snapshot()
    body = {
        "order": insured_line.order.number,
        "line": line(insured_line.pk),
        "evidence_order_number": place_evidence().number,
    }
    assert_refused(client_for(world.alice).post(f"{V1}/claims/", body, format="json"), "line")
    assert snapshot()[1] == before[1]


def test_the_claim_api_does_not_read_a_full_width_order_id(world, insured_line, place_evidence):
    before = snapshot()
    body = {
        "order": full_width(insured_line.order.pk),
        "line": insured_line.pk,
        "evidence_order_number": place_evidence().number,
    }
    response = client_for(world.alice).post(f"{V1}/claims/", body, format="json")
    assert error_of(response) == (404, "not_found")
    assert snapshot()[1] == before[1]


@pytest.mark.parametrize("price", ["１２３００", 12_300.0, "12300.0"], ids=repr)
def test_the_price_api_refuses_a_price_that_is_not_a_plain_integer(world, price):
    before = snapshot()
    response = client_for(world.seller.user).patch(
        f"{V1}/seller/skus/{world.sku.pk}/", {"price_fen": price}, format="json"
    )
    assert_refused(response, "price_fen")
    assert snapshot() == before


@pytest.mark.parametrize(
    "bad",
    [lambda world: world.product.pk + 0.5, lambda world: full_width(world.product.pk)],
    ids=["product-float", "product-full-width"],
)
def test_the_coverage_api_refuses_a_product_that_is_not_a_plain_integer(world, bad):
    # The seller names only the insurer's product now; the terms are the product's.
    before = snapshot()
    response = client_for(world.seller.user).post(
        f"{V1}/seller/campaign-items/{world.item.pk}/coverage-on/", {"product": bad(world)}, format="json"
    )
    assert_refused(response, "product")
    assert snapshot() == before


def test_a_full_width_campaign_filter_is_refused(world):
    response = client_for(world.seller.user).get(
        f"{V1}/seller/campaign-items/", {"campaign": full_width(world.campaign.pk)}
    )
    assert error_of(response) == (400, "invalid")
    assert str(NOT_AN_INTEGER) in response.json()["detail"]
