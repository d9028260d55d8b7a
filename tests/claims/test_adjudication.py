"""判责: each check in claims/rules.py, one test per failing code, and the money it decides."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from claims import rules
from claims.errors import ClaimRefused
from claims.models import Claim, ClaimState
from claims.rules import FAILED, PASSED, SKIPPED
from claims.services import claim_adjudicate, claim_file
from core.selectors import audit_history
from insurance.models import PolicyState
from orders.models import Campaign, OrderState
from orders.services import (
    address_create,
    order_confirm_receipt,
    order_line_refund,
    order_place,
    order_ship,
    orders_close_unpaid,
)
from shops.models import Platform
from shops.services import coupon_issue, sku_price_change
from tests.factories import ListingFactory, ShopFactory, SkuFactory

ALL_PASSED = dict.fromkeys(rules.CODES, PASSED)


def results(claim: Claim) -> dict[str, str]:
    return {check["code"]: check["result"] for check in claim.checks}


def file_and_decide(line, evidence_number: str, buyer) -> Claim:
    claim = claim_file(order_line=line, evidence_order_number=evidence_number, buyer=buyer)
    return claim_adjudicate(claim=claim)


def assert_rejected_only_for(claim: Claim, code: str, **others: str) -> None:
    """The claim is rejected for ``code``; every other check passed unless named in ``others``
    (the checks that needed ``code`` are skipped, and each test names them)."""
    assert claim.state == ClaimState.REJECTED
    assert results(claim) == {**ALL_PASSED, code: FAILED, **others}
    assert claim.compensation_fen is None
    assert claim.evidence_order is None  # a rejected claim does not hold its evidence order


@pytest.fixture
def cheaper(world):
    """After the campaign the same product sells for ¥149.00 in the seller's Taobao shop."""
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)


# --- the happy path ------------------------------------------------------------------------


def test_it_approves_a_claim_that_passes_every_check(world, insured_line, cheaper, place_evidence):
    evidence = place_evidence()

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert results(claim) == ALL_PASSED
    assert list(results(claim)) == rules.CODES  # every check is listed, in the table's order
    assert claim.price_difference_fen == 1_000
    assert claim.compensation_fen == 1_000
    assert claim.evidence_order == evidence
    assert claim.review_reasons == []
    assert claim.decided_at is not None


def test_it_adjudicates_once(world, insured_line, cheaper, place_evidence):
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )
    first = claim_adjudicate(claim=claim)
    sku_price_change(sku=world.other_shop_sku, price_fen=19_900)  # nothing read later changes it

    second = claim_adjudicate(claim=claim)

    assert second.state == first.state == ClaimState.APPROVED
    assert second.decided_at == first.decided_at
    assert second.checks == first.checks
    assert second.compensation_fen == 1_000


# --- one test per code -----------------------------------------------------------------------


def test_it_refuses_not_insured_when_the_line_has_no_policy(world, place_evidence):
    """not_insured: a line bought outside the campaign has no policy; claim_file refuses at once."""
    order = world.buy(sku=world.other_shop_sku)

    with pytest.raises(ClaimRefused) as refused:
        claim_file(
            order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
        )

    assert refused.value.code == "not_insured"
    assert not Claim.objects.exists()


def test_it_rejects_campaign_excluded(world, insured_line, cheaper, place_evidence):
    """campaign_excluded: a campaign marked as excluded (e.g. Double 11) pays no claims."""
    Campaign.objects.filter(pk=world.campaign.pk).update(excluded_from_claims=True, exclusion_note="双11")

    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert_rejected_only_for(claim, "campaign_excluded")


def test_it_rejects_trade_not_successful_before_receipt(world, cheaper, place_evidence):
    """trade_not_successful (fact 3): only a succeeded trade (交易成功) is claimable."""
    order = world.buy(succeed=False)
    world.end_campaign()

    claim = file_and_decide(world.line(order), place_evidence().number, world.alice)

    assert order.state == OrderState.PAID
    assert_rejected_only_for(claim, "trade_not_successful", no_compensation=SKIPPED)


def test_it_rejects_window_not_open_while_the_campaign_runs(world, cheaper, place_evidence):
    """window_not_open: filed before the campaign ended (the evidence order is stamped inside the
    window so that only the filing time is wrong)."""
    order = world.buy()
    evidence = place_evidence(now=world.campaign.ends_at + timedelta(minutes=1))

    claim = file_and_decide(world.line(order), evidence.number, world.alice)

    assert_rejected_only_for(claim, "window_not_open")


def test_it_rejects_window_closed_after_the_window(world, cheaper, place_evidence):
    """window_closed (fact 8): filed 16 days after the end, the evidence order is from day 1."""
    order = world.buy()
    world.end_campaign(days_ago=16)
    evidence = place_evidence(now=world.campaign.ends_at + timedelta(days=1))

    claim = file_and_decide(world.line(order), evidence.number, world.alice)

    assert_rejected_only_for(claim, "window_closed")
    check = next(c for c in claim.checks if c["code"] == "window_closed")
    assert "15" in rules.check_message(check)


def test_it_rejects_a_claim_filed_before_the_trade_succeeded(world, cheaper, place_evidence):
    """Issue 10.8, trade_not_successful: the trade must have succeeded when the claim was filed;
    confirming receipt before the worker adjudicates does not make an early claim good."""
    order = world.buy(succeed=False)
    world.end_campaign()
    claim = claim_file(
        order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
    )
    order_ship(order=order)
    order_confirm_receipt(order=order, buyer=world.alice)

    claim = claim_adjudicate(claim=claim)

    order.refresh_from_db()
    assert order.state == OrderState.SUCCEEDED and order.succeeded_at > claim.filed_at
    assert_rejected_only_for(claim, "trade_not_successful", no_compensation=SKIPPED)


def test_the_window_closed_message_quotes_the_policys_days(world, cheaper, place_evidence):
    """Issue 10.8: the policy keeps the 15 days it was issued with when the insurer shortens the
    product's window for new policies; the refusal quotes the policy's 15, not today's 5."""
    order = world.buy()
    world.set_terms(window_days=5)  # the insurer shortens the product's window for new policies
    world.end_campaign(days_ago=16)
    evidence = place_evidence(now=world.campaign.ends_at + timedelta(days=1))

    claim = file_and_decide(world.line(order), evidence.number, world.alice)

    assert_rejected_only_for(claim, "window_closed")
    check = next(c for c in claim.checks if c["code"] == "window_closed")
    assert check["params"] == {"days": 15}
    assert rules.check_message(check) == "申请时已超过保价期(活动结束后 15 天)。"


def test_it_refuses_already_claimed_while_a_claim_is_in_flight(world, insured_line, cheaper, place_evidence):
    """already_claimed: a policy has at most one claim in flight; claim_file refuses another."""
    first = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )

    with pytest.raises(ClaimRefused) as refused:
        claim_file(order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice)

    assert refused.value.code == "already_claimed"
    assert list(Claim.objects.all()) == [first]


def test_it_refuses_evidence_not_found_when_filing(world, insured_line, cheaper):
    """evidence_not_found (issue 10.10): claim_file refuses a number no order has, keeping no claim."""
    with pytest.raises(ClaimRefused) as refused:
        claim_file(order_line=insured_line, evidence_order_number="JHS000000000000", buyer=world.alice)

    assert refused.value.code == "evidence_not_found"
    assert refused.value.status == 400
    assert "JHS000000000000" in refused.value.message
    assert not Claim.objects.exists()


def test_it_rejects_evidence_not_found(world, insured_line, cheaper):
    """evidence_not_found at adjudication (a claim stored before filing checked the number): the
    checks that need the evidence order are skipped, not passed, and say why."""
    claim = Claim.objects.create(
        number="LP-OLD",
        policy=insured_line.policy,
        buyer=world.alice,
        evidence_order_number="JHS000000000000",
        filed_at=timezone.now(),
    )
    claim = claim_adjudicate(claim=claim)

    after = rules.CODES[rules.CODES.index("evidence_is_original") :]
    assert_rejected_only_for(claim, "evidence_not_found", **dict.fromkeys(after, SKIPPED))
    check = next(c for c in claim.checks if c["code"] == "evidence_not_found")
    assert "JHS000000000000" in rules.check_message(check)
    skipped = next(c for c in claim.checks if c["code"] == "no_price_drop")
    assert rules.check_message(skipped) == "未检查:举证订单不存在。"


def test_it_rejects_evidence_is_original(world, insured_line):
    """evidence_is_original: the insured order cannot prove its own price drop. It was also placed
    before the window and shows no lower price, so those two checks fail with it."""
    claim = file_and_decide(insured_line, insured_line.order.number, world.alice)

    assert_rejected_only_for(
        claim,
        "evidence_is_original",
        evidence_outside_window=FAILED,
        no_price_drop=FAILED,
        no_compensation=SKIPPED,
    )


def test_it_rejects_evidence_other_account(
    world, insured_line, cheaper, place_evidence, mallory, mallory_address
):
    """evidence_other_account (fact 5): mallory's order, even to alice's exact address, is not
    alice's evidence."""
    evidence = place_evidence(mallory, address=mallory_address)
    assert evidence.shipping_key == insured_line.order.shipping_key

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    after = rules.CODES[rules.CODES.index("evidence_address_mismatch") :]
    assert_rejected_only_for(claim, "evidence_other_account", **dict.fromkeys(after, SKIPPED))


def test_another_buyers_order_reveals_nothing_of_itself(
    world, insured_line, place_evidence, mallory, mallory_address
):
    """Issue 10.4: citing mallory's order tells alice nothing about it (its product, quantity,
    price, time, address): every check after the account is skipped, naming the account check,
    and no check stores a value of mallory's order."""
    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)
    evidence = place_evidence(mallory, address=mallory_address, quantity=3)

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    after = rules.CODES[rules.CODES.index("evidence_address_mismatch") :]
    params = {check["code"]: check["params"] for check in claim.checks}
    assert params["evidence_not_found"] == {"number": evidence.number}  # what alice typed
    assert params["evidence_is_original"] == params["evidence_other_account"] == {}
    for code in after:
        assert params[code] == {"needs": "evidence_other_account"}
    messages = [rules.check_message(check) for check in claim.checks]
    assert messages[-1] == "未检查:不是同一账号下单。"
    assert not any("¥" in text or "3" in text for text in messages)
    assert claim.price_difference_fen is None and claim.evidence_order is None


def test_it_rejects_evidence_address_mismatch(world, insured_line, cheaper, place_evidence):
    """evidence_address_mismatch (fact 5): another address of alice's is other shipping information."""
    office = address_create(
        user=world.alice,
        recipient="张三",
        phone="13800138000",
        region="浙江省 杭州市 西湖区",
        detail="学院路 1 号",
    )

    claim = file_and_decide(insured_line, place_evidence(address=office).number, world.alice)

    assert_rejected_only_for(claim, "evidence_address_mismatch")


@pytest.mark.parametrize(
    "field,value",
    [("recipient", "张四"), ("phone", "13800138001"), ("detail", "文一西路 970 号")],
)
def test_it_compares_each_part_of_the_shipping_information(
    world, insured_line, cheaper, place_evidence, field, value
):
    fields = {
        "recipient": "张三",
        "phone": "13800138000",
        "region": "浙江省 杭州市 余杭区",
        "detail": "文一西路 969 号",
    }
    address = address_create(user=world.alice, **{**fields, field: value})

    claim = file_and_decide(insured_line, place_evidence(address=address).number, world.alice)

    assert_rejected_only_for(claim, "evidence_address_mismatch")


def test_it_treats_full_width_and_white_space_in_the_address_as_equal(
    world, insured_line, cheaper, place_evidence
):
    """Same shipping information (fact 5): equal after normalising full-width characters and white space."""
    retyped = address_create(
        user=world.alice,
        recipient="张　三",
        phone="１３８００１３８０００",
        region="浙江省杭州市  余杭区",
        detail="文一西路９６９号",
    )

    claim = file_and_decide(insured_line, place_evidence(address=retyped).number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert results(claim) == ALL_PASSED


def test_it_rejects_evidence_sku_mismatch_for_other_specs(world, insured_line, place_evidence):
    """evidence_sku_mismatch (fact 5): the same product in white is not the insured black one. The
    price is not compared across specs."""
    white = SkuFactory(
        listing=world.other_shop_sku.listing, specs={"颜色": "白色", "尺码": "M"}, price_fen=9_900
    )

    claim = file_and_decide(insured_line, place_evidence(sku=white).number, world.alice)

    assert_rejected_only_for(claim, "evidence_sku_mismatch", no_price_drop=SKIPPED, no_compensation=SKIPPED)


def test_it_rejects_evidence_sku_mismatch_for_another_product(world, insured_line, place_evidence):
    other_product = SkuFactory(listing=ListingFactory(shop=world.taobao), price_fen=9_900)

    claim = file_and_decide(insured_line, place_evidence(sku=other_product).number, world.alice)

    assert_rejected_only_for(
        claim,
        "evidence_sku_mismatch",
        evidence_quantity_mismatch=SKIPPED,
        no_price_drop=SKIPPED,
        no_compensation=SKIPPED,
    )


def test_it_rejects_evidence_quantity_mismatch(world, cheaper, place_evidence):
    """evidence_quantity_mismatch (fact 5): two insured, one in the evidence order (its line is
    cheaper, but it is not the same quantity)."""
    order = world.buy(quantity=2)
    world.end_campaign()

    claim = file_and_decide(world.line(order), place_evidence(quantity=1).number, world.alice)

    assert_rejected_only_for(
        claim, "evidence_quantity_mismatch", no_price_drop=SKIPPED, no_compensation=SKIPPED
    )
    check = next(c for c in claim.checks if c["code"] == "evidence_quantity_mismatch")
    assert check["params"] == {"evidence": 1, "insured": 2}


def test_a_wrong_quantity_does_not_claim_a_price_drop(world, place_evidence):
    """Issue 10.11: two bought at ¥159.00 against one at ¥189.00 is no "价格降低 ¥129.00": the
    price check is skipped and says it needed the same quantity."""
    order = world.buy(quantity=2)
    world.end_campaign()

    claim = file_and_decide(world.line(order), place_evidence(quantity=1).number, world.alice)

    price = next(c for c in claim.checks if c["code"] == "no_price_drop")
    assert price["result"] == SKIPPED
    assert price["params"] == {"needs": "evidence_quantity_mismatch"}
    assert rules.check_message(price) == "未检查:数量不同。"
    with override("en"):
        assert "price" not in rules.check_message(price).lower()


def test_it_rejects_evidence_outside_window_placed_during_the_campaign(
    world, insured_line, cheaper, place_evidence
):
    """evidence_outside_window (fact 8): the evidence order must be placed inside the window."""
    evidence = place_evidence(now=world.campaign.ends_at - timedelta(minutes=1))

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    assert_rejected_only_for(claim, "evidence_outside_window")


def test_it_rejects_evidence_already_used(world, cheaper, place_evidence):
    """evidence_already_used: one evidence order backs one claim, even across two insured orders."""
    first_order = world.buy()
    second_order = world.buy()
    world.end_campaign()
    evidence = place_evidence()
    first = file_and_decide(world.line(first_order), evidence.number, world.alice)
    assert first.state == ClaimState.APPROVED

    second = file_and_decide(world.line(second_order), evidence.number, world.alice)

    assert_rejected_only_for(second, "evidence_already_used")


def test_it_releases_evidence_of_a_rejected_claim(world, cheaper, place_evidence):
    first_order = world.buy()
    second_order = world.buy(succeed=False)
    world.end_campaign()
    evidence = place_evidence()
    rejected = file_and_decide(world.line(second_order), evidence.number, world.alice)
    assert rejected.state == ClaimState.REJECTED

    claim = file_and_decide(world.line(first_order), evidence.number, world.alice)

    assert claim.state == ClaimState.APPROVED


def test_it_rejects_no_price_drop(world, insured_line, place_evidence):
    """no_price_drop (fact 4): ¥189.00 in the Taobao shop is not below the ¥159.00 paid."""
    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert_rejected_only_for(claim, "no_price_drop", no_compensation=SKIPPED)
    check = next(c for c in claim.checks if c["code"] == "no_price_drop")
    assert rules.check_message(check) == "举证订单价格 ¥189.00 不低于原订单实付款 ¥159.00。"


def test_it_rejects_an_equal_price_as_no_price_drop(world, insured_line, place_evidence):
    sku_price_change(sku=world.other_shop_sku, price_fen=15_900)

    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert_rejected_only_for(claim, "no_price_drop", no_compensation=SKIPPED)


# --- fact 4: the same product, actual transaction prices, the whole line -----------------------


def test_it_counts_the_same_product_in_another_sellers_tmall_global_shop(world, insured_line, place_evidence):
    """Fact 4: the same catalog product and specs on Tmall Global counts, whoever sells it."""
    global_shop = ShopFactory(name="海外旗舰店", platform=Platform.TMALL_GLOBAL)
    listing = ListingFactory(shop=global_shop, product=world.sku.listing.product)
    elsewhere = SkuFactory(listing=listing, specs={"尺码": "Ｍ", "颜色": "黑色"}, price_fen=13_900)

    claim = file_and_decide(insured_line, place_evidence(sku=elsewhere).number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 2_000


def test_it_counts_the_campaign_sku_itself_after_the_campaign(world, insured_line, place_evidence):
    sku_price_change(sku=world.sku, price_fen=15_000)

    claim = file_and_decide(insured_line, place_evidence(sku=world.sku).number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 900


def test_it_compares_the_evidence_price_after_a_shop_coupon(world, insured_line, place_evidence):
    """Fact 4: the actual transaction price. The list price ¥169.00 is above ¥159.00, but a ¥20.00
    Taobao shop coupon makes the evidence line ¥149.00."""
    sku_price_change(sku=world.other_shop_sku, price_fen=16_900)
    coupon = coupon_issue(shop=world.taobao, name="满100减20", amount_fen=2_000, valid_until=far_future())

    evidence = place_evidence(shop_coupon=coupon)
    claim = file_and_decide(insured_line, evidence.number, world.alice)

    assert evidence.lines.get().paid_fen == 14_900
    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 1_000


def test_it_compares_the_evidence_price_after_a_platform_allowance(world, insured_line, place_evidence):
    sku_price_change(sku=world.other_shop_sku, price_fen=16_000)
    red_packet = coupon_issue(shop=None, name="平台红包", amount_fen=1_500, valid_until=far_future())

    claim = file_and_decide(insured_line, place_evidence(platform_coupon=red_packet).number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 15_900 - 14_500


def test_it_compares_against_what_the_buyer_actually_paid_after_coupons(world, place_evidence):
    """Fact 4: 实付款. Alice paid ¥159.00 − ¥10.00 shop coupon = ¥149.00, so ¥154.00 elsewhere is no drop."""
    coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_000, valid_until=far_future())
    order = world.buy(shop_coupon=coupon)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=15_400)

    claim = file_and_decide(world.line(order), place_evidence().number, world.alice)

    assert world.line(order).paid_fen == 14_900
    assert_rejected_only_for(claim, "no_price_drop", no_compensation=SKIPPED)


def test_it_compares_the_whole_line_for_the_same_quantity(world, place_evidence):
    """Three at ¥159.00 = ¥477.00 against three at ¥149.00 = ¥447.00: ¥30.00, not ¥10.00."""
    order = world.buy(quantity=3)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = file_and_decide(world.line(order), place_evidence(quantity=3).number, world.alice)

    assert claim.price_difference_fen == 3_000
    assert claim.compensation_fen == 3_000


def test_it_uses_the_evidence_line_of_the_insured_product_in_a_mixed_order(world, insured_line, cheaper):
    unrelated = SkuFactory(listing=ListingFactory(shop=world.taobao), price_fen=100)
    mixed = order_place(
        buyer=world.alice, address=world.alice_address, items=[(unrelated, 1), (world.other_shop_sku, 1)]
    )

    claim = file_and_decide(insured_line, mixed.number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 1_000


# --- evidence orders: unpaid, closed, numbers ----------------------------------------------


def test_it_accepts_an_evidence_order_closed_unpaid(world, insured_line, cheaper, place_evidence):
    """Fact 5: the evidence order is left unpaid; once closed unpaid it still proves its price."""
    evidence = place_evidence()
    assert orders_close_unpaid(now=timezone.now() + timedelta(hours=1)) == 1
    evidence.refresh_from_db()
    assert evidence.state == OrderState.CLOSED

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 1_000


def test_it_decides_from_the_price_the_evidence_order_showed(world, insured_line, cheaper, place_evidence):
    """A price raised again after the evidence order was placed does not change the decision."""
    evidence = place_evidence()
    sku_price_change(sku=world.other_shop_sku, price_fen=19_900)

    claim = file_and_decide(insured_line, evidence.number, world.alice)

    assert claim.compensation_fen == 1_000


def test_it_accepts_full_width_digits_in_the_evidence_number(world, insured_line, cheaper, place_evidence):
    evidence = place_evidence()
    typed = " " + evidence.number.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "　"

    claim = file_and_decide(insured_line, typed, world.alice)

    assert claim.evidence_order_number == evidence.number
    assert claim.state == ClaimState.APPROVED


# --- window, per policy -------------------------------------------------------------------


@pytest.fixture
def five_day_world(world):
    world.set_terms(window_days=5)
    return world


def test_it_uses_the_window_of_the_policy(five_day_world, place_evidence):
    """Fact 8: the window is policy.window_days long (5 here, copied from the product), not a constant."""
    world = five_day_world
    order = world.buy()
    world.end_campaign(days_ago=6)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = place_evidence(now=world.campaign.ends_at + timedelta(days=1))

    claim = file_and_decide(world.line(order), evidence.number, world.alice)

    assert_rejected_only_for(claim, "window_closed")
    check = next(c for c in claim.checks if c["code"] == "window_closed")
    assert check["params"] == {"days": 5}


def test_it_accepts_the_last_day_of_a_short_window(five_day_world, place_evidence):
    world = five_day_world
    order = world.buy()
    world.end_campaign(days_ago=4.9)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = file_and_decide(world.line(order), place_evidence().number, world.alice)

    assert claim.state == ClaimState.APPROVED


def test_it_does_not_need_the_window_sweep_to_have_run(world, cheaper, place_evidence):
    """The checks read facts (trade succeeded, campaign ended), not the sweep's bookkeeping."""
    order = world.buy()
    world.end_campaign()
    assert world.line(order).policy.state == PolicyState.PENDING

    claim = file_and_decide(world.line(order), place_evidence().number, world.alice)

    assert claim.state == ClaimState.APPROVED


# --- compensation, exact to the fen ---------------------------------------------------------


def test_it_reduces_compensation_in_proportion_to_a_partial_refund(
    world, insured_line, cheaper, place_evidence
):
    """¥10.00 × (¥159.00 − ¥50.00) ÷ ¥159.00 = ¥6.855…, rounded down to ¥6.85."""
    order_line_refund(line=insured_line, amount_fen=5_000, request_id="AS-1")

    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert claim.price_difference_fen == 1_000
    assert claim.compensation_fen == 685


def test_it_rejects_a_payout_that_rounds_to_nothing_with_a_reason(world, insured_line, place_evidence):
    """Issue 10.8: ¥1.00 × ¥1.00 left ÷ ¥159.00 paid rounds down to ¥0.00. The claim is rejected
    by a check of its own that says so, not with every check passed and no reason."""
    order_line_refund(line=insured_line, amount_fen=15_800, request_id="AS-1")
    sku_price_change(sku=world.other_shop_sku, price_fen=15_800)

    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert_rejected_only_for(claim, "no_compensation")
    check = next(c for c in claim.checks if c["code"] == "no_compensation")
    assert rules.check_message(check) == (
        "按原订单已退款的比例折算后,赔付金额为 ¥0.00(差价 ¥1.00,已退款 ¥158.00)。"
    )
    assert claim.price_difference_fen is None and claim.compensation_fen is None
    event = audit_history(claim).get(action="claim_adjudicate")
    assert event.reason == "no_compensation"


def test_it_caps_compensation_per_claim(world, place_evidence):
    world.set_terms(per_claim_cap_fen=500)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = file_and_decide(world.line(order), place_evidence().number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.price_difference_fen == 1_000
    assert claim.compensation_fen == 500


@pytest.mark.parametrize(
    "paid,refunded,difference,cap,expected",
    [
        (15_900, 0, 1_000, None, 1_000),
        (15_900, 5_000, 1_000, None, 685),
        (15_900, 5_000, 1_000, 600, 600),
        (15_900, 5_000, 1_000, 700, 685),
        (15_900, 15_900, 1_000, None, 0),
        (15_900, 0, 20_000, None, 15_900),  # never above what was paid
        (15_900, 0, 0, None, 0),
        (15_900, 0, -100, None, 0),
        (0, 0, 100, None, 0),
        (3, 1, 3, None, 2),
        (10_000, 3_333, 9_999, None, 6_666),  # 9,999 × 6,667 ÷ 10,000 = 6,666.3…
    ],
)
def test_compensation_is_exact_to_the_fen(paid, refunded, difference, cap, expected):
    assert (
        rules.compensation(paid_fen=paid, refunded_fen=refunded, difference_fen=difference, cap_fen=cap)
        == expected
    )


def test_it_rejects_a_claim_whose_free_evidence_order_would_pay_more_than_paid(
    world, insured_line, place_evidence
):
    """A platform allowance can make the evidence line ¥0.00: the payout is then everything paid,
    never more (and so steep a drop goes to staff)."""
    red_packet = coupon_issue(shop=None, name="大额红包", amount_fen=50_000, valid_until=far_future())

    claim = file_and_decide(insured_line, place_evidence(platform_coupon=red_packet).number, world.alice)

    assert claim.price_difference_fen == 15_900
    assert claim.compensation_fen == 15_900
    assert claim.state == ClaimState.IN_REVIEW


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("code", rules.CODES)
@pytest.mark.parametrize("result", [PASSED, FAILED, SKIPPED])
def test_every_check_has_a_message(code, result, language):
    params = {
        "days": 15,
        "number": "JHS1",
        "evidence": 2,
        "insured": 1,
        "paid": "¥1.00",
        "difference": "¥0.10",
        "refunded": "¥0.90",
        "needs": "evidence_not_found",
    }

    with override(language):
        text = rules.check_message({"code": code, "result": result, "params": params})

    assert text.strip()
    assert "%(" not in text


def test_every_code_in_the_spec_table_has_a_message():
    assert rules.CODES == [
        "not_insured",
        "campaign_excluded",
        "trade_not_successful",
        "window_not_open",
        "window_closed",
        "already_claimed",
        "evidence_not_found",
        "evidence_is_original",
        "evidence_other_account",
        "evidence_address_mismatch",
        "evidence_sku_mismatch",
        "evidence_quantity_mismatch",
        "evidence_outside_window",
        "evidence_already_used",
        "no_price_drop",
        "no_compensation",  # issue 10.8: a payout that rounds to ¥0.00 fails a check of its own
    ]
    for check in rules.CHECKS:
        assert len({str(check.failed), str(check.passed), str(check.short)}) == 3


def test_it_shows_a_message_even_without_params():
    text = rules.check_message({"code": "no_price_drop", "result": FAILED})

    assert text.startswith("举证订单价格")


def far_future():
    return timezone.now() + timedelta(days=365)


def test_it_rejects_a_line_refunded_in_full_by_after_sales_refunds(
    world, insured_line, cheaper, place_evidence
):
    """trade_not_successful: the order still reads 交易成功, but its line was refunded in full."""
    order_line_refund(line=insured_line, amount_fen=10_000, request_id="AS-1")
    order_line_refund(line=insured_line, amount_fen=5_900, request_id="AS-2")

    claim = file_and_decide(insured_line, place_evidence().number, world.alice)

    assert insured_line.order.state == OrderState.SUCCEEDED
    assert_rejected_only_for(claim, "trade_not_successful", no_compensation=SKIPPED)


def test_it_picks_the_same_specs_among_lines_of_the_same_product(world, insured_line, cheaper):
    white = SkuFactory(
        listing=world.other_shop_sku.listing, specs={"颜色": "白色", "尺码": "M"}, price_fen=9_900
    )
    both = order_place(
        buyer=world.alice, address=world.alice_address, items=[(white, 1), (world.other_shop_sku, 1)]
    )

    claim = file_and_decide(insured_line, both.number, world.alice)

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 1_000
