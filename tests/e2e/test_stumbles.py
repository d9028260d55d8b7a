"""What buyers and sellers stumbled on (issue 10, points 9, 12 and 13), in a real browser."""

import pytest
from playwright.sync_api import Page, expect

from claims.models import ClaimState
from claims.services import claim_file, claim_review_reject
from insurance.models import Policy
from orders.models import Order, OrderState
from orders.services import order_place
from shops.services import sku_price_change

REJECTIONS = 5


@pytest.fixture
def evidence(world, insured_line):
    """Alice's unpaid orders of the same product in the Taobao shop, now ¥149.00."""
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    def place(quantity: int = 1) -> Order:
        return order_place(
            buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, quantity)]
        )

    return place


def panel(page: Page, line):
    return page.locator(f"#insurance-{line.pk}")


# --- 12: the 保险服务 panel ---------------------------------------------------------------------


def test_five_rejections_fold_away_and_the_form_stays_near_the_top(
    world, insured_line, evidence, live_server, page: Page, login
):
    for _ in range(REJECTIONS):
        claim_file(order_line=insured_line, evidence_order_number=evidence(2).number, buyer=world.alice)
    login(page, "alice")
    page.goto(f"{live_server.url}/orders/{insured_line.order.number}/")

    box = panel(page, insured_line)
    expect(box.locator("[data-claim-state=rejected]").first).to_be_visible()
    earlier = box.locator("details[data-earlier-claims]")
    expect(earlier).not_to_have_attribute("open", "")
    expect(earlier.locator("[data-claim-state=rejected]")).to_have_count(REJECTIONS - 1)
    expect(earlier.locator("[data-claim-state=rejected]").first).to_be_hidden()
    # 申请理赔 comes before the decisions, a screen's height from the panel's top at most.
    form_top = box.locator(".claim-form").bounding_box()["y"] - box.bounding_box()["y"]
    assert form_top < 500
    assert page.evaluate("document.documentElement.scrollHeight") < 2_600


def test_a_claim_in_review_says_when_to_expect_an_answer_and_not_why(
    world, insured_line, evidence, live_server, page: Page, login, settings
):
    settings.BAOJIA = {**settings.BAOJIA, "REVIEW_EXPECTED_HOURS": 6}
    Policy.objects.filter(order_line=insured_line).update(review_threshold_fen=500)
    claim = claim_file(order_line=insured_line, evidence_order_number=evidence().number, buyer=world.alice)
    claim.refresh_from_db()
    assert claim.state == ClaimState.IN_REVIEW
    login(page, "alice")
    page.goto(f"{live_server.url}/orders/{insured_line.order.number}/")

    box = panel(page, insured_line)
    expect(box.locator("[data-policy-badge]")).to_have_text("理赔中")
    expect(box.locator("[data-review]")).to_have_text("人工审核中,预计 6 小时内处理。")
    expect(box).not_to_contain_text("人工审核阈值")


def test_a_rejected_claim_shows_no_payout_and_a_paid_one_stops_the_clock(
    world, insured_line, evidence, staff, live_server, page: Page, login
):
    Policy.objects.filter(order_line=insured_line).update(review_threshold_fen=500)
    held = claim_file(order_line=insured_line, evidence_order_number=evidence().number, buyer=world.alice)
    claim_review_reject(claim=held, staff=staff, reason="举证订单价格只维持了几分钟")
    login(page, "alice")
    page.goto(f"{live_server.url}/orders/{insured_line.order.number}/")
    box = panel(page, insured_line)
    expect(box.locator("[data-claim-state=rejected]")).to_contain_text("举证订单价格只维持了几分钟")
    expect(box.locator("[data-compensation]")).to_have_count(0)
    expect(box.locator("[data-countdown]")).to_have_count(1)

    Policy.objects.filter(order_line=insured_line).update(review_threshold_fen=None)
    claim_file(order_line=insured_line, evidence_order_number=evidence().number, buyer=world.alice)
    page.reload()
    expect(box.locator("[data-claim-state=paid] [data-compensation]")).to_have_text("¥10.00")
    expect(box.locator("[data-countdown]")).to_have_count(0)
    expect(box.locator("[data-window-done]")).to_have_text("已理赔")


# --- 9: evidence orders -------------------------------------------------------------------------


def test_an_evidence_order_needs_no_payment_and_can_be_cancelled(
    world, insured_line, evidence, live_server, page: Page, login
):
    used = evidence()
    claim_file(order_line=insured_line, evidence_order_number=used.number, buyer=world.alice)
    owed = order_place(buyer=world.alice, address=world.alice_address, items=[(world.sku, 1)])
    login(page, "alice")

    page.goto(f"{live_server.url}/orders/")
    card = page.locator(f'article[data-order="{used.number}"]')
    expect(card.locator("[data-evidence-order]")).to_have_text("举证订单,无需付款")
    expect(card.get_by_role("button", name="去付款")).to_have_count(0)
    expect(
        page.locator(f'article[data-order="{owed.number}"]').get_by_role("button", name="去付款")
    ).to_be_visible()
    expect(page.get_by_role("link", name="待付款").locator("[data-count]")).to_have_text("1")

    page.goto(f"{live_server.url}/orders/{used.number}/")
    expect(page.locator("[data-evidence-order]")).to_contain_text("举证订单,无需付款")
    expect(page.get_by_role("button", name="用余额付款")).to_have_count(0)
    page.get_by_role("button", name="取消订单").click()
    expect(page.locator("[data-order-state]")).to_have_attribute("data-order-state", "closed")
    used.refresh_from_db()
    assert used.state == OrderState.CLOSED


# --- 13: the seller's pages and checkout ----------------------------------------------------------


def test_the_dashboard_says_when_there_is_nothing_to_compare(world, live_server, page: Page, login):
    world.buy()
    login(page, "seller_a")
    page.goto(f"{live_server.url}/seller/")
    conversion = page.locator('[data-effect="conversion"]')
    expect(conversion).to_contain_text("100.00%")
    expect(conversion).to_contain_text("未赠送商品还没有订单,数据不足,暂不能对比。")
    expect(conversion).not_to_contain_text("vs")


def test_a_coupon_worth_more_than_its_threshold_is_refused_beside_the_field(
    world, live_server, page: Page, login
):
    login(page, "seller_a")
    page.goto(f"{live_server.url}/seller/catalog/")
    page.get_by_label("名称").fill("满20减50")
    page.get_by_label("优惠金额(元)").fill("50")
    page.get_by_label("使用门槛(元)").fill("20")
    page.get_by_role("button", name="发放").click()
    expect(page.locator('[data-error-for="amount"]')).to_have_text(
        "优惠金额 ¥50.00 必须低于使用门槛 ¥20.00。"
    )
    expect(page.get_by_label("优惠金额(元)")).to_have_attribute("aria-invalid", "true")


def test_a_coupon_that_does_not_apply_leaves_the_breakdown(world, live_server, page: Page, login):
    from shops.services import coupon_issue

    big = coupon_issue(
        shop=world.tmall,
        name="满500减50",
        amount_fen=5_000,
        min_spend_fen=50_000,
        valid_until=world.campaign.ends_at,
    )
    login(page, "alice")
    page.goto(f"{live_server.url}/orders/checkout/?sku={world.sku.pk}")
    page.get_by_label("店铺优惠").select_option(str(big.pk))
    expect(page.locator('[data-error-for="shop_coupon"]')).to_have_text("未达到优惠券的使用门槛。")
    expect(page.locator("[data-amount=paid]")).to_have_text("¥159.00")
    expect(page.locator("[data-coupon-note]")).to_be_visible()
    expect(page.get_by_role("button", name="提交订单")).to_be_disabled()


def test_the_exposure_form_says_150_percent_is_too_much(world, live_server, page: Page, login):
    login(page, "seller_a")
    page.goto(f"{live_server.url}/seller/")
    page.fill("#exposure-drop", "150")
    page.locator("#exposure form button[type=submit]").click()
    expect(page.locator('[data-error-for="drop"]')).to_contain_text("100")
    expect(page.locator("#exposure-drop")).to_have_value("150")
    expect(page.locator("#exposure-drop")).to_have_attribute("aria-invalid", "true")


def test_a_sellers_alipay_page_opens_on_the_sellers_accounts(world, live_server, page: Page, login):
    world.buy()  # the trade succeeds: ¥159.00 reaches the seller's balance
    login(page, "seller_a")
    page.goto(f"{live_server.url}/alipay/")
    expect(page.locator("h1")).to_have_text("支付宝余额")
    expect(page.locator('[data-account="seller"]')).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-account="deposit"]')).to_contain_text(
        "¥9,997.61"
    )  # ¥10,000.00 less the ¥2.39 premium
    expect(page.locator("[data-balance]")).to_have_text("¥159.00")
