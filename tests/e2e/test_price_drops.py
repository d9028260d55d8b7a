"""主动保价 in a real browser, with a real Celery worker: the seller is warned before a price change
that triggers claims, the running worker detects the drop and tells the buyer, 一键理赔 pays it,
and a buyer who did nothing is paid by 自动理赔 shortly before the window closes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from alipay.selectors import account_balance_fen
from claims import tasks
from claims.models import Claim, ClaimSource, ClaimState, PriceDrop
from insurance.models import Policy
from insurance.services import policy_windows_advance
from notices.models import Notice
from tests.workers import ANY_BROKER, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("worker", [ANY_BROKER], indirect=True)
def test_the_platform_finds_the_drop_and_pays_it(
    world, worker, live_server, page: Page, browser, login, shot
):
    alices = world.buy()
    bobs = world.buy(world.bob)
    world.end_campaign()
    policy_windows_advance()
    alice_before, bob_before = account_balance_fen(world.alice), account_balance_fen(world.bob)

    # The seller lowers the price of the same product in the Taobao shop, and is warned first.
    seller = browser.new_page(viewport={"width": 1280, "height": 900})
    login(seller, "seller_a")
    seller.goto(f"{live_server.url}/seller/catalog/")
    row = seller.locator(f'tr[data-sku="{world.other_shop_sku.pk}"]')
    row.locator("input[name=price]").fill("149.00")
    row.locator("button[type=submit]").click()
    warning = seller.locator("#change-warning")
    expect(warning).to_contain_text("此次改价将触发 2 份保单理赔,预计赔付 ¥20.00")
    shot(seller, "seller-price-warning")
    warning.locator("[data-confirm]").click()
    expect(seller.locator(f'tr[data-sku="{world.other_shop_sku.pk}"]')).to_contain_text("¥149.00")

    # Beat's detection runs on the worker: both buyers have a drop and a notice.
    tasks.price_drops_detect.delay()
    assert wait_for(lambda: PriceDrop.objects.count() == 2), worker.log_path.read_text()[-3000:]

    # alice reads it in the message centre and claims it with one click.
    login(page, "alice")
    page.goto(f"{live_server.url}/notices/")
    expect(page.locator('nav [data-unread="1"]')).to_be_visible()
    notice = page.locator('[data-notice="drop_detected"]')
    expect(notice).to_contain_text("可获赔 ¥10.00")
    shot(page, "message-centre")
    notice.click()
    drop = page.locator("[data-drop]")
    expect(drop).to_contain_text("小米淘宝店")
    expect(page.locator("[data-once-note]")).to_be_visible()
    shot(page, "order-price-drop")
    page.locator("[data-one-click]").click()
    expect(page.locator("[data-payout]")).to_contain_text("¥10.00", timeout=20_000)
    expect(page.locator("[data-price-evidence]")).to_contain_text("小米淘宝店")
    expect(page.locator("[data-one-click]")).to_have_count(0)
    page.goto(f"{live_server.url}/alipay/")
    expect(page.locator('[data-entry="payout"]').first).to_contain_text("+¥10.00")
    assert account_balance_fen(world.alice) == alice_before + 1_000

    # bob did nothing: six hours before his window closes, the platform files for him.
    Policy.objects.filter(order_line__order=bobs).update(window_ends_at=timezone.now() + timedelta(hours=5))
    tasks.price_drops_follow_up.delay()
    assert wait_for(
        lambda: Claim.objects.filter(policy__order_line__order=bobs, state=ClaimState.PAID).exists()
    ), worker.log_path.read_text()[-3000:]
    auto = Claim.objects.get(policy__order_line__order=bobs)
    assert (auto.source, auto.compensation_fen) == (ClaimSource.AUTOMATIC, 1_000)
    assert account_balance_fen(world.bob) == bob_before + 1_000
    assert Notice.objects.filter(user=world.bob, kind="claim_filed_auto").count() == 1
    assert Claim.objects.filter(policy__order_line__order=alices).count() == 1  # alice claimed herself
