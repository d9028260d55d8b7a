"""The whole journey in a real browser: the seller gifts price protection, the buyer buys it in the
campaign, the campaign ends, the price falls, the buyer proves it and is paid."""

import re

import pytest
from playwright.sync_api import Page, expect

from claims.tasks import summaries_refresh
from insurance.services import coverage_turn_off
from insurance.tasks import policy_windows_advance
from orders.models import Order
from orders.services import order_place
from orders.tasks import campaigns_advance
from tests.factories import CampaignItemFactory, ListingFactory, SkuFactory

BADGE = "赠保价险"
INSURANCE_LINE = "卖家赠送,若15天降价,保险赔付差额"


@pytest.fixture
def rice(world):
    """An uncovered item of the same live campaign."""
    sku = SkuFactory(
        listing=ListingFactory(shop=world.tmall, title="米家电饭煲 3L"),
        specs={"容量": "3L"},
        price_fen=29_900,
    )
    return CampaignItemFactory(campaign=world.campaign, sku=sku, campaign_price_fen=25_900)


def card(page: Page, listing_id: int):
    return page.locator(f'article[data-listing="{listing_id}"]')


def buy(page: Page, live_server, listing_id: int, *, quantity: int = 1) -> str:
    """From the listing page through checkout; returns the new (unpaid) order's number."""
    page.goto(f"{live_server.url}/shop/items/{listing_id}/")
    page.fill("#quantity", str(quantity))
    page.get_by_role("button", name="立即购买").click()
    expect(page.locator("[data-amount=paid]")).to_be_visible()
    page.get_by_role("button", name="提交订单").click()
    expect(page.locator("[data-order-state=created]")).to_be_visible()
    return page.locator("[data-order-number]").inner_text()


def file_claim(page: Page, evidence: str) -> None:
    form = page.locator(".claim-form")
    form.locator("input[name=evidence_order_number]").fill(evidence)
    form.locator("button[type=submit]").click()


def test_the_whole_journey(world, rice, live_server, page: Page, browser, login, shot):
    coverage_turn_off(coverage=world.coverage, seller=world.seller)
    seller = browser.new_page(viewport={"width": 1280, "height": 900})
    login(seller, "seller_a")

    # The seller gifts price protection on the campaign item: the switch, over htmx.
    seller.goto(f"{live_server.url}/seller/campaigns/")
    row = seller.locator(f"#item-{world.item.pk}")
    expect(row).to_have_attribute("data-coverage", "off")
    row.locator("input[role=switch]").check()
    expect(seller.locator(f"#item-{world.item.pk}")).to_have_attribute("data-coverage", "on")
    expect(seller.locator(f"#item-{world.item.pk}")).to_contain_text("1.50%")
    shot(seller, "seller-campaigns")

    # The buyer sees the badge on the covered item only, and buys it in the campaign.
    login(page, "alice")
    page.goto(f"{live_server.url}/shop/")
    expect(card(page, world.sku.listing_id)).to_contain_text(BADGE)
    expect(card(page, rice.sku.listing_id)).to_be_visible()
    expect(card(page, rice.sku.listing_id)).not_to_contain_text(BADGE)
    shot(page, "storefront")
    page.goto(f"{live_server.url}/shop/campaigns/{world.campaign.pk}/")
    expect(page.locator(f'[data-item="{world.item.pk}"]')).to_contain_text(BADGE)
    expect(page.locator(f'[data-item="{rice.pk}"]')).not_to_contain_text(BADGE)
    shot(page, "campaign")
    page.goto(f"{live_server.url}/shop/items/{world.sku.listing_id}/")
    page.get_by_role("button", name="立即购买").click()
    expect(page.locator("[data-insurance-line]")).to_contain_text(INSURANCE_LINE)
    expect(page.locator("[data-insurance-line] input[type=checkbox]")).to_be_checked()
    expect(page.locator("[data-insurance-line] input[type=checkbox]")).to_be_disabled()
    expect(page.locator("[data-amount=paid]")).to_have_text("¥159.00")
    shot(page, "checkout")
    page.get_by_role("button", name="提交订单").click()
    number = page.locator("[data-order-number]").inner_text()
    page.get_by_role("button", name=re.compile("用余额付款")).click()
    expect(page.locator("[data-order-state]")).to_have_attribute("data-order-state", "paid")

    # The seller ships from the dashboard; the buyer confirms receipt: the trade succeeds.
    seller.goto(f"{live_server.url}/seller/orders/")
    seller.locator(f'article[data-order="{number}"]').get_by_role("button", name="发货").click()
    expect(seller.locator(f'article[data-order="{number}"]')).to_contain_text("已发货")
    page.reload()
    page.get_by_role("button", name="确认收货").click()
    expect(page.locator("[data-order-state]")).to_have_attribute("data-order-state", "succeeded")

    # Bob buys the uncovered rice cooker once and leaves a second order unpaid: the dashboard
    # compares covered and uncovered items.
    world.buy(world.bob, sku=rice.sku)
    order_place(buyer=world.bob, address=world.bob_address, items=[(rice.sku, 1)])

    # The campaign ends (its clock moved back); the platform's tasks open the claim window.
    world.end_campaign()
    campaigns_advance.delay()
    policy_windows_advance.delay()

    # The seller lowers the price of the same product in the Taobao shop.
    seller.goto(f"{live_server.url}/seller/catalog/")
    price_row = seller.locator(f'tr[data-sku="{world.other_shop_sku.pk}"]')
    price_row.locator("input[name=price]").fill("149.00")
    price_row.locator("button[type=submit]").click()
    # The price would trigger alice's claim: the seller confirms after reading what it costs.
    expect(seller.locator("#change-warning")).to_contain_text("此次改价将触发 1 份保单理赔,预计赔付 ¥10.00")
    seller.locator("#change-warning [data-confirm]").click()
    expect(seller.locator(f'tr[data-sku="{world.other_shop_sku.pk}"]')).to_contain_text("¥149.00")
    shot(seller, "seller-catalog")

    # A wrong evidence order (another quantity) is rejected, and the page says why.
    wrong = buy(page, live_server, world.other_shop_sku.listing_id, quantity=2)
    page.goto(f"{live_server.url}/orders/{number}/")
    expect(page.locator("[data-policy-state]")).to_have_attribute("data-policy-state", "claimable")
    file_claim(page, wrong)
    expect(page.locator("[data-claim-state=rejected]")).to_be_visible(timeout=10_000)
    expect(page.locator("[data-rejected]")).to_contain_text("举证订单的数量(2)与原订单(1)不同。")

    # A second tab still shows the form; it will try a second claim after the payout.
    second_tab = page.context.new_page()
    second_tab.goto(f"{live_server.url}/orders/{number}/")

    # The right evidence order: same account, address, SKU specs and quantity, left unpaid.
    right = buy(page, live_server, world.other_shop_sku.listing_id)
    page.goto(f"{live_server.url}/orders/{number}/")
    page.locator(f'[data-candidate="{right}"] button').click()
    expect(page.locator("input[name=evidence_order_number]")).to_have_value(right)
    shot(page, "order-claim-form")
    page.locator(".claim-form button[type=submit]").click()
    expect(page.locator("[data-payout]")).to_contain_text("¥10.00", timeout=10_000)
    expect(page.locator('[data-claim-state=paid] [data-check="no_price_drop"]')).to_contain_text(
        "价格降低 ¥10.00"
    )
    expect(page.locator("[data-policy-state]")).to_have_attribute("data-policy-state", "claimed")
    shot(page, "order-paid")

    # A second claim is refused, next to the field.
    file_claim(second_tab, right)
    expect(second_tab.locator('[data-error-for="evidence_order_number"]')).to_have_text(
        "该保单已有处理中或已赔付的理赔。"
    )

    # The payout is in the Alipay balance, linked back to its claim.
    page.get_by_role("link", name="查看余额").click()
    entry = page.locator('[data-entry="payout"]')
    expect(entry).to_contain_text("+¥10.00")
    expect(page.locator("[data-balance]")).to_have_text("¥9,851.00")
    shot(page, "alipay-balance")
    entry.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}/#claim-"))
    assert Order.objects.filter(buyer=world.alice).count() == 3

    # The seller's dashboard now counts the payout and the premium (once beat's rollup has run).
    summaries_refresh.delay()
    seller.goto(f"{live_server.url}/seller/")
    expect(seller.locator('[data-kpi="payouts"]')).to_have_text("¥10.00")
    expect(seller.locator('[data-kpi="premiums"]')).to_have_text("¥2.39")
    shot(seller, "seller-dashboard")
    seller.goto(f"{live_server.url}/seller/claims/")
    shot(seller, "seller-claims")


def test_another_buyer_gets_a_404_on_my_order(world, live_server, page: Page, login):
    order = world.buy()
    login(page, "bob")
    response = page.goto(f"{live_server.url}/orders/{order.number}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在")


def test_an_uncovered_item_has_no_badge_and_no_insurance_line(world, rice, live_server, page: Page, login):
    login(page, "alice")
    page.goto(f"{live_server.url}/shop/items/{rice.sku.listing_id}/")
    expect(page.locator("main")).not_to_contain_text(BADGE)
    page.get_by_role("button", name="立即购买").click()
    expect(page.locator("[data-amount=paid]")).to_have_text("¥259.00")
    expect(page.locator("[data-insurance-line]")).to_have_count(0)


def test_pages_read_on_a_phone(world, live_server, browser, login, shot):
    order = world.buy()
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(phone, "alice")
    phone.goto(f"{live_server.url}/shop/")
    expect(phone.locator(f'article[data-listing="{world.sku.listing_id}"]')).to_contain_text(BADGE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "phone-storefront")
    phone.goto(f"{live_server.url}/orders/{order.number}/")
    expect(phone.locator("[data-policy]")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "phone-order")
