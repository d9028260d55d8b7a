"""The buyer's pages of 主动保价: the drop in the 保险服务 panel with 一键理赔, the "可赔" mark in My
Orders, the message centre with its unread count, the 自动理赔 switch; and the seller's warning
before a price change or a coupon that triggers claims, and the drops on the dashboard."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alipay.selectors import account_balance_fen
from claims.detection import price_drops_detect
from claims.models import Claim, ClaimSource, ClaimState, PriceDrop
from core.selectors import auto_claim_enabled
from notices.models import Notice
from shops.services import coupon_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def drop(world, claimable) -> PriceDrop:
    """The platform found alice's ¥10.00 drop (Taobao at ¥149.00)."""
    price_drops_detect()
    return PriceDrop.objects.get(policy__order_line__order=claimable)


def detail(client, order) -> str:
    return client.get(reverse("orders:detail", args=[order.number])).content.decode()


def test_the_panel_shows_the_drop_with_one_click_and_the_claim_once_note(
    world, claimable, drop, alice_client
):
    page = detail(alice_client, claimable)

    assert f'data-drop="{drop.pk}"' in page and 'data-drop-amount="1000"' in page
    assert "淘宝" in page and "小米淘宝店" in page and "¥149.00" in page and "¥10.00" in page
    assert "data-one-click" in page and "data-once-note" in page
    assert "一笔订单的同一商品只能理赔一次" in page


def test_one_click_files_and_pays_from_the_panel(
    world, claimable, drop, alice_client, htmx, django_capture_on_commit_callbacks
):
    line = claimable.lines.get()
    before = account_balance_fen(world.alice, "buyer")

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("claims:one_click", args=[claimable.number, line.pk]), **htmx)

    assert response.status_code == 200
    claim = Claim.objects.get()
    assert (claim.source, claim.state, claim.compensation_fen) == (
        ClaimSource.ONE_CLICK,
        ClaimState.PAID,
        1_000,
    )
    assert account_balance_fen(world.alice, "buyer") == before + 1_000
    panel = response.content.decode()
    assert "data-price-evidence" in panel and "小米淘宝店" in panel and "data-one-click" not in panel


def test_a_drop_proven_by_another_buyers_order_shows_nothing_of_them(world, claimable, alice_client):
    red_packet = coupon_issue(
        shop=None, name="红包", amount_fen=500, valid_until=timezone.now() + timedelta(days=1)
    )
    # bob paid ¥144.00 in the Taobao shop (¥149.00 less a platform red packet, not a public price)
    bobs = world.buy(world.bob, sku=world.other_shop_sku, platform_coupon=red_packet)
    price_drops_detect()
    drop = PriceDrop.objects.get(policy__order_line__order=claimable)
    assert drop.record.order_ref == bobs.pk  # the proof is bob's line...

    page = detail(alice_client, claimable)
    api = alice_client.get("/api/v1/price-drops/").content.decode()
    for shown in (page, api):  # ...but neither his order nor his name is shown
        assert bobs.number not in shown and "bob" not in shown and "李四" not in shown
    assert "小米淘宝店" in page and "¥144.00" in page


def test_one_click_on_another_buyers_line_is_404(world, claimable, drop, bob_client):
    line = claimable.lines.get()
    assert bob_client.post(reverse("claims:one_click", args=[claimable.number, line.pk])).status_code == 404
    assert bob_client.get(reverse("notices:drop", args=[drop.pk])).status_code == 404
    assert not Claim.objects.exists()


def test_my_orders_marks_the_line_that_can_be_claimed(world, claimable, drop, alice_client):
    page = alice_client.get(reverse("orders:mine")).content.decode()
    assert 'data-claimable="1000"' in page and "可赔 ¥10.00" in page


def test_the_message_centre_lists_notices_and_the_nav_counts_the_unread(world, claimable, drop, alice_client):
    notice = Notice.objects.get(user=world.alice, kind="drop_detected")
    page = alice_client.get(reverse("notices:list")).content.decode()
    assert 'data-unread="1"' in page and 'data-read="0"' in page and "¥10.00" in page

    opened = alice_client.get(reverse("notices:open", args=[notice.pk]))

    assert opened.status_code == 302 and opened["Location"] == f"/drops/{drop.pk}/"
    assert alice_client.get(opened["Location"])["Location"].endswith(
        f"#insurance-{drop.policy.order_line_id}"
    )
    notice.refresh_from_db()
    assert notice.is_read
    assert 'data-unread="0"' in alice_client.get(reverse("orders:mine")).content.decode()


def test_another_buyers_notice_is_404(world, claimable, drop, bob_client):
    notice = Notice.objects.get(user=world.alice, kind="drop_detected")
    assert bob_client.get(reverse("notices:open", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert not notice.is_read


def test_the_buyer_switches_automatic_claims_off_and_on(world, alice_client):
    page = alice_client.get(reverse("notices:list")).content.decode()
    assert 'data-auto-claim="on"' in page

    alice_client.post(reverse("notices:auto_claim"), {"auto_claim": "off"})
    assert not auto_claim_enabled(world.alice)
    assert 'data-auto-claim="off"' in alice_client.get(reverse("notices:list")).content.decode()
    alice_client.post(reverse("notices:auto_claim"), {"auto_claim": "on"})
    assert auto_claim_enabled(world.alice)


def test_the_seller_is_warned_before_a_price_change_that_triggers_claims(world, claimable, seller_client):
    url = reverse("shops:catalog")
    data = {"form": "price", "sku": world.other_shop_sku.pk, "price": "139"}

    warned = seller_client.post(url, data)

    page = warned.content.decode()
    assert warned.status_code == 200 and 'data-policies="1"' in page and 'data-payout="2000"' in page
    assert "此次改价将触发 1 份保单理赔,预计赔付 ¥20.00" in page
    world.other_shop_sku.refresh_from_db()
    assert world.other_shop_sku.price_fen == 14_900  # nothing saved yet

    confirmed = seller_client.post(url, {**data, "confirm": "1"})
    assert confirmed.status_code == 302
    world.other_shop_sku.refresh_from_db()
    assert world.other_shop_sku.price_fen == 13_900


def test_a_higher_price_is_saved_without_a_warning(world, claimable, seller_client):
    response = seller_client.post(
        reverse("shops:catalog"), {"form": "price", "sku": world.other_shop_sku.pk, "price": "199"}
    )
    assert response.status_code == 302


def test_the_seller_is_warned_before_a_coupon_that_triggers_claims(world, claimable, seller_client):
    data = {
        "form": "coupon",
        "shop": world.taobao.pk,
        "name": "全店减 20",
        "amount": "20",
        "min_spend": "",
        "valid_days": "3",
    }

    warned = seller_client.post(reverse("shops:catalog"), data)

    assert "此次发券将触发 1 份保单理赔,预计赔付 ¥30.00" in warned.content.decode()
    assert not world.taobao.coupons.exists()
    assert seller_client.post(reverse("shops:catalog"), {**data, "confirm": "1"}).status_code == 302
    assert world.taobao.coupons.count() == 1


def test_the_dashboard_shows_drops_detected_but_not_claimed(world, claimable, drop, seller_client):
    page = seller_client.get(reverse("insurance:dashboard")).content.decode()
    assert 'data-unclaimed-drops="1"' in page and "¥10.00" in page
