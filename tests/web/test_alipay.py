"""The Alipay balance page: balance, top-up, and ledger entries linked to their orders and claims."""

import pytest
from django.test import Client
from django.urls import reverse

from alipay.selectors import account_balance_fen
from claims.models import Claim
from claims.services import claim_file
from orders.services import order_place

pytestmark = pytest.mark.django_db


def test_it_shows_the_balance_and_links_entries_to_orders_and_claims(
    world, claimable, alice_client, django_capture_on_commit_callbacks
):
    proof = order_place(buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        claim_file(order_line=claimable.lines.get(), evidence_order_number=proof.number, buyer=world.alice)
    claim = Claim.objects.get()
    page = alice_client.get(reverse("alipay:balance")).content.decode()
    assert "data-balance>¥9,851.00" in page  # ¥10,000.00 − ¥159.00 + ¥10.00
    assert f'href="{reverse("orders:detail", args=[claimable.number])}"' in page
    assert f"{reverse('orders:detail', args=[claimable.number])}#claim-{claim.number}" in page
    assert "+¥10.00" in page and "价格保障保险理赔" in page


def test_a_top_up_is_paid_once(world, alice_client):
    before = account_balance_fen(world.alice)
    data = {"amount": "50.5", "key": "0b3f2a4e-1a2b-4c3d-8e9f-001122334455"}
    assert alice_client.post(reverse("alipay:top_up"), data).status_code == 302
    alice_client.post(reverse("alipay:top_up"), data)
    assert account_balance_fen(world.alice) - before == 5_050


def test_a_bad_amount_is_refused_next_to_the_field(world, alice_client):
    response = alice_client.post(
        reverse("alipay:top_up"), {"amount": "1.234", "key": "0b3f2a4e-1a2b-4c3d-8e9f-001122334455"}
    )
    assert response.status_code == 400
    assert 'data-error-for="amount">金额格式不正确' in response.content.decode()


def test_another_buyers_entries_are_not_shown_or_linked(world, alice_client, bob_client):
    order = world.buy(world.bob)
    page = alice_client.get(reverse("alipay:balance")).content.decode()
    assert order.number not in page
    assert order.number in bob_client.get(reverse("alipay:balance")).content.decode()


def test_the_seller_sees_its_deposit_with_premiums_linked(world, seller_client):
    order = world.buy()
    policy = order.lines.get().policy
    page = seller_client.get(reverse("alipay:balance"), {"account": "deposit"}).content.decode()
    assert "data-balance>¥9,997.61" in page
    assert policy.number in page  # the premium links to its policy
    assert "保险承保-价格保障保险-保费收取" in page


def test_buyers_have_no_deposit_tab(world, alice_client):
    page = alice_client.get(reverse("alipay:balance"), {"account": "deposit"}).content.decode()
    assert "买家余额" in page and "聚划算保险保证金" not in page


def test_the_query_count_does_not_grow_with_entries(world, alice_client, django_assert_num_queries):
    world.buy()
    with django_assert_num_queries(8):
        alice_client.get(reverse("alipay:balance"))
    for _ in range(6):
        world.buy()
    with django_assert_num_queries(8):
        page = alice_client.get(reverse("alipay:balance")).content.decode()
    assert page.count("data-entry=") == 8


def test_anonymous_visitors_go_to_login():
    assert Client().get(reverse("alipay:balance")).status_code == 302
