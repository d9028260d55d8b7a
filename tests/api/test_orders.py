"""Addresses and orders over the API: place, pay, ship, confirm, cancel, with the money breakdown."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alipay.selectors import account_balance_fen
from orders.models import Order
from shops.services import coupon_issue
from tests.api.conftest import client_for, error_of
from tests.factories import SkuFactory

V1 = "/api/v1"


@pytest.fixture
def alice(world):
    return client_for(world.alice)


def place(client, world, *, sku=None, quantity=1, address=None, **extra):
    body = {
        "address": (address or world.alice_address).pk,
        "items": [{"sku": (sku or world.sku).pk, "quantity": quantity}],
    }
    return client.post(f"{V1}/orders/", {**body, **extra}, format="json")


def test_it_lists_and_adds_addresses(world, alice):
    assert [a["id"] for a in alice.get(f"{V1}/addresses/").json()["results"]] == [world.alice_address.pk]
    response = alice.post(
        f"{V1}/addresses/",
        {"recipient": "张三", "phone": "13800138000", "region": "上海市 浦东新区", "detail": "世纪大道 1 号"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["region"] == "上海市 浦东新区"
    assert alice.get(f"{V1}/addresses/{response.json()['id']}/").status_code == 200


def test_an_incomplete_address_is_invalid(world, alice):
    response = alice.post(f"{V1}/addresses/", {"recipient": "  ", "phone": "1"}, format="json")
    assert error_of(response) == (400, "invalid")
    assert set(response.json()["errors"]) == {"recipient", "region", "detail"}


def test_it_places_an_order_at_the_campaign_price_with_the_breakdown(world, alice):
    response = place(alice, world, quantity=2)
    assert response.status_code == 201
    order = response.json()
    assert order["state"] == "created"
    assert order["state_display"] == "待付款"
    assert order["campaign"] == world.campaign.pk
    assert (order["item_total_fen"], order["paid_fen"], order["paid_display"]) == (31_800, 31_800, "¥318.00")
    (line,) = order["lines"]
    assert line["specs"] == {"颜色": "黑色", "尺码": "M"}
    assert (line["quantity"], line["unit_price_fen"], line["item_total_fen"]) == (2, 15_900, 31_800)
    assert (line["shop_discount_fen"], line["platform_discount_fen"], line["refunded_fen"]) == (0, 0, 0)
    assert line["policy"] is None  # issued when paid
    assert Order.objects.get(number=order["number"]).buyer == world.alice


def test_coupons_show_in_the_breakdown(world, alice):
    until = timezone.now() + timedelta(days=1)
    shop = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_000, valid_until=until)
    platform = coupon_issue(shop=None, name="红包", amount_fen=500, valid_until=until)
    response = place(alice, world, shop_coupon=shop.pk, platform_coupon=platform.pk)
    assert response.status_code == 201, response.content
    line = response.json()["lines"][0]
    assert (line["item_total_fen"], line["shop_discount_fen"], line["platform_discount_fen"]) == (
        15_900,
        1_000,
        500,
    )
    assert (line["paid_fen"], line["paid_display"], line["shop_discount_display"]) == (
        14_400,
        "¥144.00",
        "¥10.00",
    )


def test_a_platform_coupon_is_not_a_shop_coupon(world, alice):
    platform = coupon_issue(
        shop=None, name="红包", amount_fen=500, valid_until=timezone.now() + timedelta(days=1)
    )
    response = place(alice, world, shop_coupon=platform.pk)
    assert error_of(response) == (400, "invalid")
    assert "shop_coupon" in response.json()["errors"]


def test_an_order_needs_the_callers_own_address(world, alice):
    response = place(alice, world, address=world.bob_address)
    assert error_of(response) == (400, "invalid")
    assert "address" in response.json()["errors"]


def test_the_services_refusals_keep_their_codes(world, alice):
    other_shop = {"sku": world.other_shop_sku.pk, "quantity": 1}
    response = alice.post(
        f"{V1}/orders/",
        {"address": world.alice_address.pk, "items": [{"sku": world.sku.pk, "quantity": 1}, other_shop]},
        format="json",
    )
    assert error_of(response) == (400, "mixed_shops")
    assert error_of(place(alice, world, quantity=1000)) == (400, "invalid")
    response = alice.post(f"{V1}/orders/", {"address": world.alice_address.pk, "items": []}, format="json")
    assert error_of(response) == (400, "invalid")
    assert not Order.objects.exists()


def test_the_whole_trade_over_the_api(world, alice):
    seller = client_for(world.seller.user)
    number = place(alice, world).json()["number"]
    before = account_balance_fen(world.alice)

    paid = alice.post(f"{V1}/orders/{number}/pay/")
    assert paid.status_code == 200
    assert paid.json()["state"] == "paid"
    policy = paid.json()["lines"][0]["policy"]
    assert policy["state"] == "pending"
    assert policy["latest_claim"] is None
    assert account_balance_fen(world.alice) == before - 15_900
    assert alice.post(f"{V1}/orders/{number}/pay/").status_code == 200  # paying again is a no-op
    assert account_balance_fen(world.alice) == before - 15_900

    assert error_of(alice.post(f"{V1}/orders/{number}/confirm-receipt/")) == (409, "order_not_shipped")
    assert error_of(alice.post(f"{V1}/orders/{number}/cancel/")) == (409, "order_not_cancellable")
    shipped = seller.post(f"{V1}/seller/orders/{number}/ship/")
    assert shipped.status_code == 200
    assert shipped.json()["state"] == "shipped"
    confirmed = alice.post(f"{V1}/orders/{number}/confirm-receipt/")
    assert confirmed.status_code == 200
    assert confirmed.json()["state"] == "succeeded"
    assert confirmed.json()["succeeded_at"] is not None


def test_it_cancels_an_unpaid_order_and_refuses_to_pay_it(world, alice):
    number = place(alice, world).json()["number"]
    response = alice.post(f"{V1}/orders/{number}/cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    assert error_of(alice.post(f"{V1}/orders/{number}/pay/")) == (409, "order_not_payable")


def test_a_seller_ships_only_paid_orders(world, alice):
    number = place(alice, world).json()["number"]
    seller = client_for(world.seller.user)
    assert error_of(seller.post(f"{V1}/seller/orders/{number}/ship/")) == (409, "order_not_shippable")


def test_an_unknown_order_is_404(world, alice):
    assert error_of(alice.get(f"{V1}/orders/NOPE123/")) == (404, "not_found")
    assert error_of(alice.post(f"{V1}/orders/NOPE123/pay/")) == (404, "not_found")


def test_listing_orders_takes_the_same_queries_for_one_or_many(world, alice):
    world.buy()
    with CaptureQueriesContext(connection) as one:
        assert alice.get(f"{V1}/orders/").json()["count"] == 1
    world.buy()
    world.buy(sku=SkuFactory(listing=world.sku.listing, specs={"颜色": "白色"}))
    with CaptureQueriesContext(connection) as three:
        assert alice.get(f"{V1}/orders/").json()["count"] == 3
    # token, count, orders, lines with SKU and policy, claims: whatever the number of orders
    assert len(one) == len(three) == 5
