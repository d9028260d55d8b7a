"""Checkout: SKU, quantity, address, coupons, the live quote (商品总价 − 店铺优惠 − 平台优惠 =
实付款), the ¥0.00 insurance line on covered items, and placing the order."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderState
from shops.services import coupon_issue
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db

INSURANCE_LINE = "卖家赠送,若15天降价,保险赔付差额"


@pytest.fixture
def coupons(world):
    until = timezone.now() + timedelta(days=7)
    return {
        "shop": coupon_issue(
            shop=world.tmall, name="满150减10", amount_fen=1_000, min_spend_fen=15_000, valid_until=until
        ),
        "big": coupon_issue(
            shop=world.tmall, name="满500减50", amount_fen=5_000, min_spend_fen=50_000, valid_until=until
        ),
        "platform": coupon_issue(shop=None, name="红包5元", amount_fen=500, valid_until=until),
    }


def checkout_url(sku, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"sku": sku.pk, **params}.items())
    return f"{reverse('orders:checkout')}?{query}"


def test_it_shows_the_price_and_the_gifted_insurance_line(world, alice_client):
    page = alice_client.get(checkout_url(world.sku, quantity=2)).content.decode()
    assert 'data-amount="item_total">¥318.00' in page
    assert 'data-amount="paid">¥318.00' in page
    assert INSURANCE_LINE in page
    assert "checked disabled" in page  # pre-checked, cannot be removed
    assert world.alice_address.recipient in page


def test_an_uncovered_item_has_no_insurance_line(world, alice_client):
    page = alice_client.get(checkout_url(world.other_shop_sku)).content.decode()
    assert 'data-amount="paid">¥189.00' in page
    assert INSURANCE_LINE not in page and "data-insurance-line" not in page


def test_the_quote_applies_shop_and_platform_coupons(world, alice_client, coupons, htmx):
    response = alice_client.get(
        reverse("orders:quote"),
        {
            "sku": world.sku.pk,
            "quantity": 1,
            "address": world.alice_address.pk,
            "shop_coupon": coupons["shop"].pk,
            "platform_coupon": coupons["platform"].pk,
        },
        **htmx,
    )
    page = response.content.decode()
    assert 'data-amount="item_total">¥159.00' in page
    assert 'data-amount="shop_discount">-¥10.00' in page
    assert 'data-amount="platform_discount">-¥5.00' in page
    assert 'data-amount="paid">¥144.00' in page


def test_a_coupon_below_its_threshold_is_refused_next_to_its_field(world, alice_client, coupons):
    page = alice_client.get(
        reverse("orders:quote"),
        {
            "sku": world.sku.pk,
            "quantity": 1,
            "address": world.alice_address.pk,
            "shop_coupon": coupons["big"].pk,
        },
    ).content.decode()
    assert 'data-error-for="shop_coupon">未达到优惠券的使用门槛。' in page
    assert "disabled>" in page  # nothing to submit until it is fixed


def test_it_places_the_order_at_the_quoted_price(world, alice_client, coupons):
    response = alice_client.post(
        reverse("orders:checkout"),
        {
            "sku": world.sku.pk,
            "quantity": 1,
            "address": world.alice_address.pk,
            "shop_coupon": coupons["shop"].pk,
        },
    )
    order = Order.objects.get(buyer=world.alice)
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", args=[order.number])
    assert (order.state, order.item_total_fen, order.shop_discount_fen, order.paid_fen) == (
        OrderState.CREATED,
        15_900,
        1_000,
        14_900,
    )


def test_a_bad_quantity_is_refused_next_to_the_field(world, alice_client):
    response = alice_client.post(
        reverse("orders:checkout"), {"sku": world.sku.pk, "quantity": 0, "address": world.alice_address.pk}
    )
    assert response.status_code == 400
    assert 'data-error-for="quantity"' in response.content.decode()
    assert not Order.objects.exists()


def test_another_buyers_address_cannot_be_chosen(world, alice_client):
    response = alice_client.post(
        reverse("orders:checkout"), {"sku": world.sku.pk, "quantity": 1, "address": world.bob_address.pk}
    )
    assert response.status_code == 400
    assert 'data-error-for="address"' in response.content.decode()
    assert not Order.objects.exists()


def test_an_unknown_sku_is_a_404(alice_client):
    assert alice_client.get(f"{reverse('orders:checkout')}?sku=999999").status_code == 404


def test_it_adds_an_address_and_comes_back_to_checkout_with_it(world, alice_client):
    next_url = checkout_url(world.sku, quantity=1)
    response = alice_client.post(
        reverse("orders:address_new"),
        {
            "recipient": "张三",
            "phone": "13800138000",
            "region": "上海市",
            "detail": "世纪大道 1 号",
            "next": next_url,
        },
    )
    address = world.alice.addresses.latest("pk")
    assert response.status_code == 302
    assert f"address={address.pk}" in response.url


def test_an_incomplete_address_is_refused(world, alice_client):
    response = alice_client.post(
        reverse("orders:address_new"), {"recipient": "张三", "phone": "", "region": "上海", "detail": "x"}
    )
    assert response.status_code == 400
    assert 'data-error-for="phone"' in response.content.decode()


def test_checkout_needs_a_login(world):
    response = Client().get(checkout_url(world.sku))
    assert response.status_code == 302


def test_no_address_yet_asks_for_one(world):
    from tests.factories import UserFactory
    from tests.web.conftest import client_for

    carol = UserFactory(username="carol")
    page = client_for(carol).get(checkout_url(world.sku)).content.decode()
    assert "还没有收货地址" in page
    AddressFactory(user=carol)
    assert "还没有收货地址" not in client_for(carol).get(checkout_url(world.sku)).content.decode()
