"""Markup that assistive technology relies on (issue 10 #16): each error and help text is tied to
its field, headings descend in order, landmarks hold the navigation."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.services import claim_file
from orders.models import Order
from shops.services import coupon_issue

pytestmark = pytest.mark.django_db


def ids(page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page))


def described(page: str) -> set[str]:
    return {ref for refs in re.findall(r'aria-describedby="([^"]+)"', page) for ref in refs.split()}


def test_every_aria_describedby_on_the_catalog_points_at_something(seller_client):
    page = seller_client.get(reverse("shops:catalog")).content.decode()
    assert "id_min_spend_helptext" in described(page)
    assert described(page) <= ids(page)


def test_a_refused_coupon_field_is_described_by_its_error(seller_client, world):
    page = seller_client.post(
        reverse("shops:catalog"),
        {
            "form": "coupon",
            "shop": world.tmall.pk,
            "name": "满20减50",
            "amount": "50",
            "min_spend": "20",
            "valid_days": "7",
        },
    ).content.decode()
    assert re.search(r'<input[^>]*name="amount"[^>]*aria-describedby="id_amount_error"', page)
    assert 'id="id_amount_error" data-error-for="amount">优惠金额 ¥50.00 必须低于使用门槛 ¥20.00。' in page
    assert described(page) <= ids(page)


def test_the_claim_forms_error_is_tied_to_its_input(world, insured_line, alice_client):
    response = alice_client.post(
        reverse("claims:file", args=[insured_line.order.number, insured_line.pk]),
        {"evidence_order_number": ""},
    )
    page = response.content.decode()
    error_id = f"claim-{insured_line.pk}-error"
    assert f'id="{error_id}"' in page
    assert re.search(rf'name="evidence_order_number"[^>]*aria-describedby="{error_id} ', page)
    assert described(page) <= ids(page)


def test_the_insurance_panel_has_no_heading_gap(world, insured_line, alice_client):
    page = alice_client.get(reverse("orders:detail", args=[insured_line.order.number])).content.decode()
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", page)]
    assert levels[0] == 1
    assert all(after - before <= 1 for before, after in zip(levels, levels[1:], strict=False))


def test_the_alipay_page_has_a_heading_and_the_language_form_no_group_role(alice_client):
    page = alice_client.get(reverse("alipay:balance")).content.decode()
    assert re.search(r"<h1\b", page)
    form = re.search(r'<form action="/i18n/setlang/"[^>]*>', page).group(0)
    assert "role=" not in form


def test_the_sellers_navigation_is_a_landmark(seller_client):
    page = seller_client.get(reverse("insurance:dashboard")).content.decode()
    assert re.search(r'<nav class="subnav[^"]*" aria-label="商家后台">', page)


def test_a_seller_opens_on_the_seller_balance_and_sees_the_deposit(world, seller_client):
    page = seller_client.get(reverse("alipay:balance")).content.decode()
    assert re.search(r'data-account="seller" aria-current="page"', page)
    assert 'data-account="deposit"' in page
    assert 'data-account="buyer"' in page


def test_a_checkout_with_a_coupon_that_does_not_apply_places_nothing(world, alice_client):
    big = coupon_issue(
        shop=world.tmall,
        name="满500减50",
        amount_fen=5_000,
        min_spend_fen=50_000,
        valid_until=timezone.now() + timedelta(days=1),
    )
    response = alice_client.post(
        reverse("orders:checkout"),
        {"sku": world.sku.pk, "quantity": 1, "address": world.alice_address.pk, "shop_coupon": big.pk},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-amount="paid">¥159.00' in page
    assert "data-coupon-note" in page
    assert not Order.objects.filter(buyer=world.alice).exists()


def test_an_evidence_order_is_not_owed(world, insured_line, place_evidence, alice_client):
    used = place_evidence()
    claim_file(order_line=insured_line, evidence_order_number=used.number, buyer=world.alice)
    page = alice_client.get(reverse("orders:mine")).content.decode()
    assert "data-count" not in page  # the only unpaid order is the evidence order
    detail = alice_client.get(reverse("orders:detail", args=[used.number])).content.decode()
    assert "举证订单,无需付款" in detail
    assert reverse("orders:pay", args=[used.number]) not in detail
