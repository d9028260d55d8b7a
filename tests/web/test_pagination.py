"""Every list pages by key: newer and older links, one query per page at any depth, and no row
lost or shown twice when rows arrive between two requests."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alipay.services import balance_top_up
from claims.services import claim_file
from insurance.services import policy_windows_advance
from orders.models import Order
from orders.services import order_place

pytestmark = pytest.mark.django_db

OLDER = re.compile(r'data-page="older" href="\?([^"]+)"')
NEWER = re.compile(r'data-page="newer" href="\?([^"]+)"')


def _walk(client, url: str, marker: str, *, between=None) -> tuple[list[list[str]], list[list[str]]]:
    """Follow the older links to the end, calling ``between`` after each page, then follow the
    newer links back to the first page; the rows of each page, each way."""
    rows = re.compile(rf'{marker}="([^"]+)"')
    page = client.get(url).content.decode()
    assert NEWER.search(page) is None  # the first page is the newest
    down = [rows.findall(page)]
    while match := OLDER.search(page):
        if between:
            between()
        page = client.get(f"{url}?{match.group(1).replace('&amp;', '&')}").content.decode()
        down.append(rows.findall(page))
    up = []
    while match := NEWER.search(page):
        page = client.get(f"{url}?{match.group(1).replace('&amp;', '&')}").content.decode()
        up.append(rows.findall(page))
    return down, up


def _flat(pages: list[list[str]]) -> list[str]:
    return [row for page in pages for row in page]


def _place(world, n: int, *, buyer=None) -> list[str]:
    buyer = buyer or world.alice
    address = world.alice_address if buyer == world.alice else world.bob_address
    return [order_place(buyer=buyer, address=address, items=[(world.sku, 1)]).number for _ in range(n)]


def test_my_orders_page_by_key_and_survive_new_orders(world, alice_client, monkeypatch):
    monkeypatch.setattr("web.buyer.orders.PAGE_SIZE", 3)
    placed = _place(world, 8)
    # Two orders share a timestamp: the primary key breaks the tie.
    Order.objects.filter(number__in=placed[3:5]).update(created_at=timezone.now() - timedelta(hours=1))
    newest_first = list(
        Order.objects.filter(buyer=world.alice)
        .order_by("-created_at", "-pk")
        .values_list("number", flat=True)
    )
    arrivals = []

    down, up = _walk(
        alice_client,
        reverse("orders:mine"),
        "data-order",
        between=lambda: arrivals.extend(_place(world, 2)),
    )

    assert _flat(down) == newest_first  # none lost, none twice, though six orders arrived meanwhile
    assert all(len(page) == 3 for page in down[:-1])
    # Back up from the last page: every row above it, and the new orders on the first page.
    assert set(_flat(up)) == (set(newest_first) - set(down[-1])) | set(arrivals)
    assert set(up[-1]) == set(arrivals[-3:])


def test_a_state_tab_keeps_its_filter_across_pages(world, alice_client, monkeypatch):
    monkeypatch.setattr("web.buyer.orders.PAGE_SIZE", 2)
    unpaid = _place(world, 5)
    world.buy()
    down, _up = _walk(alice_client, reverse("orders:mine"), "data-order")
    assert len(_flat(down)) == 6
    page = alice_client.get(reverse("orders:mine"), {"state": "created"}).content.decode()
    older = OLDER.search(page).group(1)
    assert "state=created" in older
    seen = re.findall(r'data-order="([^"]+)"', page)
    seen += re.findall(
        r'data-order="([^"]+)"', alice_client.get(f"{reverse('orders:mine')}?{older}").content.decode()
    )
    assert set(seen) <= set(unpaid) and len(seen) == 4


def test_a_cursor_we_did_not_write_shows_the_first_page(world, alice_client, monkeypatch):
    monkeypatch.setattr("web.buyer.orders.PAGE_SIZE", 2)
    _place(world, 3)
    first = alice_client.get(reverse("orders:mine")).content.decode()
    for junk in ("x", "1_2_3", "99999999999999999999999999_1", "", "１_１"):
        page = alice_client.get(reverse("orders:mine"), {"older": junk}).content.decode()
        assert re.findall(r'data-order="([^"]+)"', page) == re.findall(r'data-order="([^"]+)"', first)


def test_seller_orders_page_by_key(world, seller_client, monkeypatch):
    monkeypatch.setattr("web.seller.orders.PAGE_SIZE", 2)
    _place(world, 3)
    _place(world, 2, buyer=world.bob)
    down, up = _walk(seller_client, reverse("orders:seller_orders"), "data-order")
    newest_first = list(
        Order.objects.filter(shop__seller=world.seller)
        .order_by("-created_at", "-pk")
        .values_list("number", flat=True)
    )
    assert _flat(down) == newest_first
    assert set(_flat(up)) == set(newest_first) - set(down[-1])


def test_seller_claims_page_by_key(world, seller_client, monkeypatch):
    monkeypatch.setattr("web.seller.claims.PAGE_SIZE", 2)
    orders = [world.buy(world.alice if n % 2 else world.bob) for n in range(5)]
    world.end_campaign()
    policy_windows_advance()
    for order in orders:
        address = world.alice_address if order.buyer == world.alice else world.bob_address
        proof = order_place(buyer=order.buyer, address=address, items=[(world.other_shop_sku, 1)])
        claim_file(order_line=order.lines.get(), evidence_order_number=proof.number, buyer=order.buyer)
    down, _up = _walk(seller_client, reverse("claims:seller_claims"), "data-claim")
    assert [len(page) for page in down] == [2, 2, 1]
    assert len(set(_flat(down))) == 5


def test_the_balance_pages_by_key(world, alice_client, monkeypatch):
    monkeypatch.setattr("web.wallet.PAGE_SIZE", 3)
    for n in range(7):
        balance_top_up(user=world.alice, amount_fen=100 + n, key=f"page-{n}")
    down, up = _walk(
        alice_client,
        reverse("alipay:balance"),
        "data-entry-id",
        between=lambda: balance_top_up(user=world.alice, amount_fen=1, key=f"late-{timezone.now()}"),
    )
    ids = _flat(down)
    assert ids == sorted(ids, key=int, reverse=True) and len(ids) == len(set(ids)) == 8
    assert len(set(_flat(up))) > 3
