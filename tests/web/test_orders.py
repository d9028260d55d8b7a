"""My orders, the order details page and its actions, and the seller's orders with shipping."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import OrderState
from orders.services import order_place
from tests.factories import UserFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db


def place(world, buyer=None, sku=None, quantity=1):
    buyer = buyer or world.alice
    address = world.alice_address if buyer == world.alice else world.bob_address
    return order_place(buyer=buyer, address=address, items=[(sku or world.sku, quantity)])


def test_my_orders_lists_only_mine(world, alice_client):
    mine = world.buy()
    theirs = world.buy(world.bob)
    page = alice_client.get(reverse("orders:mine")).content.decode()
    assert mine.number in page and theirs.number not in page
    assert "价保" in page  # the insured line says so


def test_my_orders_filters_by_state(world, alice_client):
    paid = world.buy(succeed=False)
    unpaid = place(world)
    page = alice_client.get(reverse("orders:mine"), {"state": OrderState.CREATED}).content.decode()
    assert unpaid.number in page and paid.number not in page


def test_my_orders_query_count_does_not_grow(world, alice_client, django_assert_num_queries):
    world.buy()
    place(world, sku=world.other_shop_sku)
    # 6, plus the claims citing the page's unpaid orders and the 待付款 count (issue 10 #9), the
    # unread notices in the navigation and the lines' detected drops (issue 11).
    with django_assert_num_queries(10):
        alice_client.get(reverse("orders:mine"))
    for _ in range(5):
        world.buy()
        place(world, sku=world.other_shop_sku)
    with django_assert_num_queries(10):
        page = alice_client.get(reverse("orders:mine")).content.decode()
    assert page.count("data-order=") == 12


def test_the_details_page_shows_the_breakdown_and_the_insurance_line(world, alice_client):
    order = world.buy()
    page = alice_client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "商品总价" in page and "店铺优惠" in page and "平台及达人优惠" in page and "实付款" in page
    assert "卖家赠送,若15天降价,保险赔付差额" in page
    assert order.lines.get().policy.number in page
    assert "确认收货,交易成功" in page  # the order's history


def test_another_buyers_order_is_a_404(world, bob_client):
    order = world.buy()
    assert bob_client.get(reverse("orders:detail", args=[order.number])).status_code == 404
    for action in ("orders:pay", "orders:cancel", "orders:confirm"):
        assert bob_client.post(reverse(action, args=[order.number])).status_code == 404


def test_anonymous_visitors_go_to_login(world):
    order = world.buy()
    response = Client().get(reverse("orders:detail", args=[order.number]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_pay_then_confirm_receipt_after_shipping(world, alice_client, seller_client):
    order = place(world)
    response = alice_client.post(reverse("orders:pay", args=[order.number]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert seller_client.post(reverse("orders:seller_ship", args=[order.number])).status_code == 302
    alice_client.post(reverse("orders:confirm", args=[order.number]))
    order.refresh_from_db()
    assert order.state == OrderState.SUCCEEDED


def test_paying_without_enough_balance_says_so(world):
    broke = UserFactory(username="broke")
    from tests.factories import AddressFactory

    order = order_place(buyer=broke, address=AddressFactory(user=broke), items=[(world.sku, 1)])
    response = client_for(broke).post(reverse("orders:pay", args=[order.number]))
    assert response.status_code == 400
    assert "余额不足" in response.content.decode()
    order.refresh_from_db()
    assert order.state == OrderState.CREATED


def test_confirming_before_shipping_is_refused(world, alice_client):
    order = world.buy(succeed=False)
    response = alice_client.post(reverse("orders:confirm", args=[order.number]))
    assert response.status_code == 400
    assert "订单尚未发货,不能确认收货。" in response.content.decode()


def test_cancel_an_unpaid_order(world, alice_client):
    order = place(world)
    alice_client.post(reverse("orders:cancel", args=[order.number]))
    order.refresh_from_db()
    assert order.state == OrderState.CLOSED


def test_the_seller_sees_orders_of_its_shops_with_their_policies(world, seller_client):
    order = world.buy(succeed=False)
    page = seller_client.get(reverse("orders:seller_orders")).content.decode()
    assert order.number in page and order.lines.get().policy.number in page
    assert "发货" in page
    insured_only = seller_client.get(reverse("orders:seller_orders"), {"insured": "1"}).content.decode()
    assert order.number in insured_only


def test_the_seller_orders_query_count_does_not_grow(world, seller_client, django_assert_num_queries):
    world.buy()
    with django_assert_num_queries(8):
        seller_client.get(reverse("orders:seller_orders"))
    for _ in range(5):
        world.buy(world.bob)
    with django_assert_num_queries(8):
        page = seller_client.get(reverse("orders:seller_orders")).content.decode()
    assert page.count("data-order=") == 6


def test_another_sellers_order_cannot_be_shipped(world):
    from tests.factories import SellerFactory

    order = world.buy(succeed=False)
    other = SellerFactory()
    response = client_for(other.user).post(reverse("orders:seller_ship", args=[order.number]))
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_buyers_cannot_open_seller_pages(alice_client):
    assert alice_client.get(reverse("orders:seller_orders")).status_code == 403
