"""Price-drop detection (主动保价): for every claimable policy with an open window, the lowest
price record of the same product and spec inside the window becomes its detected drop.

alice paid ¥159.00 for one insured Tmall SKU in the campaign; the campaign has just ended, so her
window is open. The Taobao shop lists the same product and spec at ¥189.00.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.detection import price_drops_detect
from claims.models import PriceDrop
from insurance.models import PolicyState
from insurance.services import policy_windows_advance
from notices.models import Notice
from orders.services import (
    campaign_create,
    campaign_item_add,
    campaigns_advance,
    order_line_refund,
    order_refund,
)
from shops.models import PriceRecord, PriceSource
from shops.services import coupon_issue, sku_price_change
from tests.factories import CatalogProductFactory, ListingFactory, PriceRecordFactory, SkuFactory


def drop_of(line) -> PriceDrop | None:
    return PriceDrop.objects.filter(policy__order_line=line).select_related("record").first()


def test_it_finds_the_lowest_price_in_the_window(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=15_500)
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    sku_price_change(sku=world.other_shop_sku, price_fen=18_900)  # back up: the low price still counts

    price_drops_detect()

    drop = drop_of(insured_line)
    assert (drop.unit_price_fen, drop.difference_fen, drop.amount_fen) == (14_900, 1_000, 1_000)
    assert drop.record.shop == world.taobao
    assert drop.record.source == PriceSource.LIST_PRICE
    assert drop.first_seen_at == drop.improved_at


def test_a_paid_order_line_is_a_price_record_rounded_up_to_the_fen(world, insured_line):
    # bob buys three in the Taobao shop with a ¥10 shop coupon: ¥567.00 − ¥10.00 = ¥557.00 for 3.
    coupon = coupon_issue(
        shop=world.taobao,
        name="满 500 减 10",
        amount_fen=1_000,
        min_spend_fen=50_000,
        valid_until=timezone.now() + timedelta(days=3),
    )
    order = world.buy(world.bob, sku=world.other_shop_sku, quantity=3, shop_coupon=coupon)
    record = PriceRecord.objects.get(source=PriceSource.ORDER_LINE, order_ref=order.pk)
    assert record.unit_price_fen == 18_567  # 55,700 ÷ 3 = 18,566.67, rounded up

    sku_price_change(sku=world.other_shop_sku, price_fen=15_000)
    order = world.buy(world.bob, sku=world.other_shop_sku, quantity=1)
    price_drops_detect()
    assert drop_of(insured_line).amount_fen == 900


def test_it_ignores_other_products_and_other_specs(world, insured_line):
    other_product = SkuFactory(listing=ListingFactory(shop=world.taobao, product=CatalogProductFactory()))
    other_specs = SkuFactory(
        listing=world.other_shop_sku.listing,
        specs={"颜色": "白色", "尺码": "M"},
        specs_key="尺码=M;颜色=白色",
    )
    sku_price_change(sku=other_product, price_fen=5_000)
    sku_price_change(sku=other_specs, price_fen=5_000)

    price_drops_detect()

    assert drop_of(insured_line) is None


def test_it_ignores_prices_outside_the_window(world, insured_line):
    policy = insured_line.policy
    before = PriceRecordFactory(
        sku=world.other_shop_sku,
        unit_price_fen=9_000,
        observed_at=policy.window_starts_at - timedelta(seconds=1),
    )
    after = PriceRecordFactory(
        sku=world.other_shop_sku, unit_price_fen=9_100, observed_at=policy.window_ends_at
    )
    first_inside = PriceRecordFactory(
        sku=world.other_shop_sku, unit_price_fen=15_000, observed_at=policy.window_starts_at
    )

    price_drops_detect()

    drop = drop_of(insured_line)
    assert drop.record == first_inside
    assert {before.pk, after.pk}.isdisjoint({drop.record_id})


def test_the_campaigns_own_sales_before_the_window_prove_nothing(world):
    # During the campaign bob bought at ¥159.00 less a ¥30 coupon: ¥129.00, before any window.
    coupon = coupon_issue(
        shop=world.tmall, name="减 30", amount_fen=3_000, valid_until=timezone.now() + timedelta(days=3)
    )
    world.buy(world.bob, shop_coupon=coupon)
    order = world.buy()
    world.end_campaign()
    policy_windows_advance()

    price_drops_detect()

    assert drop_of(world.line(order)) is None


def test_it_leaves_out_the_insured_order_itself(world):
    """alice's own line (¥139.00 after a coupon) is the lowest price in the window; it proves
    bob's drop but never her own."""
    coupon = coupon_issue(
        shop=world.tmall, name="减 20", amount_fen=2_000, valid_until=timezone.now() + timedelta(days=3)
    )
    alices = world.buy(shop_coupon=coupon)
    bobs = world.buy(world.bob)
    world.end_campaign()
    policy_windows_advance()
    own = PriceRecord.objects.get(order_ref=alices.pk)
    PriceRecord.objects.filter(pk=own.pk).update(observed_at=timezone.now())  # inside both windows
    PriceRecordFactory(sku=world.other_shop_sku, unit_price_fen=14_500)

    price_drops_detect()

    assert drop_of(world.line(bobs)).record_id == own.pk
    assert drop_of(world.line(alices)) is None  # ¥145.00 is no drop on ¥139.00, and her own line is out


def test_policies_of_an_excluded_campaign_get_no_drop(world, insured_line):
    world.campaign.excluded_from_claims = True
    world.campaign.save(update_fields=["excluded_from_claims"])
    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)

    price_drops_detect()

    assert drop_of(insured_line) is None


def test_prices_of_an_excluded_campaign_prove_no_drop(world, insured_line):
    now = timezone.now()
    double11 = campaign_create(
        seller=world.seller,
        name="双11",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        excluded_from_claims=True,
    )
    item = campaign_item_add(campaign=double11, sku=world.other_shop_sku, campaign_price_fen=9_900)
    campaigns_advance()
    assert PriceRecord.objects.get(source=PriceSource.CAMPAIGN_PRICE, source_id=item.pk).excluded
    world.buy(world.bob, sku=world.other_shop_sku)  # bought through 双11 at ¥99.00

    price_drops_detect()

    assert drop_of(insured_line) is None


def test_a_live_campaign_price_is_a_public_price(world, insured_line):
    later = campaign_create(
        seller=world.seller,
        name="返场",
        starts_at=insured_line.policy.window_starts_at + timedelta(milliseconds=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    campaign_item_add(campaign=later, sku=world.other_shop_sku, campaign_price_fen=13_900)
    campaigns_advance()

    price_drops_detect()

    drop = drop_of(insured_line)
    assert (drop.unit_price_fen, drop.amount_fen, drop.record.source) == (
        13_900,
        2_000,
        PriceSource.CAMPAIGN_PRICE,
    )


def test_a_lower_price_set_before_the_window_and_still_holding_counts(world):
    order = world.buy()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)  # during the campaign
    world.end_campaign()  # the window opens: the prices in effect are seen at its start
    policy_windows_advance()

    price_drops_detect()

    drop = drop_of(world.line(order))
    assert (drop.unit_price_fen, drop.record.observed_at) == (
        14_900,
        world.line(order).policy.window_starts_at,
    )


def test_a_shop_wide_coupon_is_a_public_price(world, insured_line):
    coupon_issue(
        shop=world.taobao, name="全店减 40", amount_fen=4_000, valid_until=timezone.now() + timedelta(days=2)
    )

    price_drops_detect()

    drop = drop_of(insured_line)
    assert (drop.unit_price_fen, drop.amount_fen, drop.record.source) == (
        14_900,
        1_000,
        PriceSource.SHOP_COUPON,
    )


def test_voided_and_expired_policies_get_no_drop(world):
    refunded, expired = world.buy(), world.buy()
    world.end_campaign()
    policy_windows_advance()
    order_refund(order=refunded, reason="退货")
    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)
    later = timezone.now() + timedelta(days=16)
    policy_windows_advance(now=later)

    price_drops_detect(now=later)

    assert world.line(refunded).policy.state == PolicyState.VOIDED
    assert world.line(expired).policy.state == PolicyState.EXPIRED
    assert not PriceDrop.objects.exists()


def test_a_lower_price_raises_the_amount_and_it_never_falls(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    first = drop_of(insured_line)

    sku_price_change(sku=world.other_shop_sku, price_fen=13_900)
    price_drops_detect()
    lower = drop_of(insured_line)
    assert (lower.unit_price_fen, lower.amount_fen) == (13_900, 2_000)
    assert lower.first_seen_at == first.first_seen_at and lower.improved_at > first.improved_at

    sku_price_change(sku=world.other_shop_sku, price_fen=14_500)  # higher: changes nothing
    order_line_refund(line=insured_line, amount_fen=7_950, request_id="AS1")  # half refunded
    price_drops_detect()
    price_drops_detect(full=True)
    assert (drop_of(insured_line).unit_price_fen, drop_of(insured_line).amount_fen) == (13_900, 2_000)


def test_a_partial_refund_before_detection_reduces_the_amount_in_proportion(world, insured_line):
    order_line_refund(line=insured_line, amount_fen=5_300, request_id="AS1")  # a third of ¥159.00
    sku_price_change(sku=world.other_shop_sku, price_fen=12_900)

    price_drops_detect()

    assert drop_of(insured_line).amount_fen == 3_000 * (15_900 - 5_300) // 15_900


def test_the_per_claim_cap_holds(world):
    world.set_terms(per_claim_cap_fen=1_500)  # the policy copies its product's cap at issue
    order = world.buy()
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)

    price_drops_detect()

    assert (drop_of(world.line(order)).difference_fen, drop_of(world.line(order)).amount_fen) == (
        6_000,
        1_500,
    )


def test_a_policy_claimable_after_the_price_fell_is_caught_by_the_next_run(world):
    order = world.buy(succeed=False)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    assert drop_of(world.line(order)) is None  # not claimable yet: the trade has not succeeded

    from orders.services import order_confirm_receipt, order_ship

    order_ship(order=order)
    order_confirm_receipt(order=order, buyer=world.alice)
    price_drops_detect()

    assert drop_of(world.line(order)).amount_fen == 1_000


def test_running_twice_or_fully_again_changes_nothing(world, insured_line):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    price_drops_detect()
    before = list(PriceDrop.objects.values())

    again = price_drops_detect()
    price_drops_detect(full=True)

    assert again["drops_written"] == 0
    assert list(PriceDrop.objects.values()) == before
    assert Notice.objects.filter(user=world.alice, kind="drop_detected").count() == 1


@pytest.mark.parametrize("quantity", [1, 2])
def test_the_drop_is_for_the_insured_quantity(world, quantity):
    order = world.buy(quantity=quantity)
    world.end_campaign()
    policy_windows_advance()
    sku_price_change(sku=world.other_shop_sku, price_fen=15_000)

    price_drops_detect()

    assert drop_of(world.line(order)).amount_fen == 900 * quantity


# --- the rule in SQL is the rule in Python ------------------------------------------------------


@pytest.fixture
def one_row(db):
    """A row to compute on (the same row for every example: nothing is written)."""
    from tests.factories import UserFactory

    return UserFactory()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    paid=st.integers(min_value=1, max_value=10**9),
    refunded_share=st.integers(min_value=0, max_value=100),
    difference=st.integers(min_value=1, max_value=2 * 10**9),
    cap=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
)
def test_detection_pays_what_adjudication_pays(one_row, paid, refunded_share, difference, cap):
    from django.contrib.auth import get_user_model
    from django.db.models import BigIntegerField, Value

    from claims.drop_writes import compensation_expression
    from claims.rules import compensation

    refunded = paid * refunded_share // 100
    big = BigIntegerField()
    in_sql = (
        get_user_model()
        .objects.filter(pk=one_row.pk)
        .annotate(
            amount=compensation_expression(
                difference=Value(difference, output_field=big),
                paid=Value(paid, output_field=big),
                refunded=Value(refunded, output_field=big),
                cap=Value(cap, output_field=big),
            )
        )
        .values_list("amount", flat=True)
        .get()
    )
    assert in_sql == compensation(
        paid_fen=paid, refunded_fen=refunded, difference_fen=difference, cap_fen=cap
    )


def test_the_command_rescans_everything_and_says_so(world, insured_line):
    from io import StringIO

    from django.core.management import call_command

    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    out = StringIO()
    call_command("detect_price_drops", "--full", stdout=out)
    assert "full rescan" in out.getvalue() and "1 drops written" in out.getvalue()
    call_command("detect_price_drops", stdout=out)
    assert "incremental run" in out.getvalue()
    assert drop_of(insured_line).amount_fen == 1_000
