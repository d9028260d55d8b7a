"""Every web form reads its numbers and ids with the one strict parser (core.numbers): a quantity,
an id, a number of days or a percentage given as ``1.5``, ``7.0`` or in full-width digits (``１``)
is refused beside its field and changes nothing; Django's own fields would read ``7.0`` and ``１``
as 7 and 1."""

import re

import pytest
from django.urls import reverse

from orders.models import Order
from shops.models import Coupon
from web.wallet import _parse

pytestmark = pytest.mark.django_db

NOT_AN_INTEGER = "必须是整数"


def full_width(number: int) -> str:
    """``12`` → ``"１２"``: digits Python's ``int()`` reads, and people type with a Chinese IME."""
    return str(number).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


def checkout(world, **changes) -> dict:
    return {"sku": world.sku.pk, "quantity": "1", "address": world.alice_address.pk, **changes}


@pytest.mark.parametrize("quantity", ["1.5", "1.0", full_width(1), "true"])
def test_a_quantity_that_is_not_a_whole_number_is_refused_beside_it(world, alice_client, quantity):
    response = alice_client.post(reverse("orders:checkout"), checkout(world, quantity=quantity))
    assert response.status_code == 400
    assert f'data-error-for="quantity">{NOT_AN_INTEGER}' in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("field", ["address", "sku"])
def test_an_id_in_full_width_digits_is_refused_at_checkout(world, alice_client, field):
    data = checkout(world)
    data[field] = full_width(data[field])
    response = alice_client.post(reverse("orders:checkout"), data)
    assert response.status_code in (400, 404)  # the SKU names the page: no such page
    if field == "address":
        assert f'data-error-for="address">{NOT_AN_INTEGER}' in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("sku", ["1.5", "{pk}.0"])
def test_the_checkout_page_of_a_sku_that_is_not_a_whole_number_is_a_404(world, alice_client, sku):
    url = f"{reverse('orders:checkout')}?sku={sku.format(pk=world.sku.pk)}"
    assert alice_client.get(url).status_code == 404
    assert alice_client.get(f"{reverse('orders:checkout')}?sku={full_width(world.sku.pk)}").status_code == 404


def coupon(world, **changes) -> dict:
    data = {"form": "coupon", "shop": world.tmall.pk, "name": "满100减8", "amount": "8", "min_spend": "100"}
    return {**data, "valid_days": "7", **changes}


@pytest.mark.parametrize("days", ["7.5", "7.0", full_width(7)])
def test_coupon_days_that_are_not_a_whole_number_are_refused_beside_them(world, seller_client, days):
    response = seller_client.post(reverse("shops:catalog"), coupon(world, valid_days=days))
    assert response.status_code == 400
    assert f'data-error-for="valid_days">{NOT_AN_INTEGER}' in response.content.decode()
    assert not Coupon.objects.filter(name="满100减8").exists()


def test_a_coupons_shop_in_full_width_digits_is_refused_beside_it(world, seller_client):
    response = seller_client.post(reverse("shops:catalog"), coupon(world, shop=full_width(world.tmall.pk)))
    assert response.status_code == 400
    assert f'data-error-for="shop">{NOT_AN_INTEGER}' in response.content.decode()
    assert not Coupon.objects.filter(name="满100减8").exists()


def test_a_price_for_a_sku_in_full_width_digits_changes_nothing(world, seller_client):
    data = {"form": "price", "sku": full_width(world.other_shop_sku.pk), "price": "149.00"}
    assert seller_client.post(reverse("shops:catalog"), data).status_code == 404
    world.other_shop_sku.refresh_from_db()
    assert world.other_shop_sku.price_fen == 18_900


@pytest.mark.parametrize("drop", ["10.5", "10.0", full_width(10)])
def test_an_exposure_drop_that_is_not_a_whole_number_is_refused_beside_it(world, seller_client, htmx, drop):
    page = seller_client.get(reverse("insurance:exposure"), {"drop": drop}, **htmx).content.decode()
    assert re.search(rf'data-error-for="drop"[^>]*>{NOT_AN_INTEGER}', page)


def test_a_ledger_reference_names_an_object_only_by_ascii_digits():
    assert _parse("order:12") == ("order", 12)
    assert _parse(f"order:{full_width(12)}") is None
    assert _parse("order:1.5") is None
    assert _parse("seller") is None
