"""Policies (保单): who gets one (fact 3), what it costs the seller, and its lifecycle."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from alipay.models import AccountKind, TransferKind
from alipay.selectors import ledger_discrepancies
from alipay.services import user_account
from core.selectors import audit_history
from insurance.models import Policy, PolicyState, Premium, PremiumKind
from insurance.services import coverage_turn_on, policy_windows_advance, premium_for
from orders.models import Campaign, CampaignState
from orders.services import (
    order_confirm_receipt,
    order_pay,
    order_place,
    order_refund,
    order_ship,
)
from shops.services import coupon_issue
from tests.factories import CampaignItemFactory, SkuFactory


def deposit(world) -> int:
    return user_account(user=world.seller.user, kind=AccountKind.DEPOSIT).balance_fen


def refreshed(policy: Policy) -> Policy:
    policy.refresh_from_db()
    return policy


# --- issuing --------------------------------------------------------------------------------


def test_it_issues_a_policy_when_a_covered_line_is_paid_in_the_campaign(world):
    """Fact 3: bought through Juhuasuan, paid during the campaign, with coverage on."""
    order = world.buy(quantity=2, succeed=False)

    policy = world.line(order).policy
    assert policy.number.startswith("BD")
    assert policy.state == PolicyState.PENDING
    assert (policy.buyer, policy.seller, policy.coverage) == (world.alice, world.seller, world.coverage)
    assert policy.insured_fen == 31_800
    assert policy.premium_fen == 477  # 1.5% of ¥318.00 = ¥4.77
    assert policy.window_starts_at == world.campaign.ends_at
    assert policy.window_ends_at == world.campaign.ends_at + timedelta(days=15)
    assert audit_history(policy).get().action == "policy_issue"


def test_it_charges_the_premium_to_the_sellers_deposit(world):
    before = deposit(world)

    order = world.buy(succeed=False)

    policy = world.line(order).policy
    charge = Premium.objects.get(policy=policy, kind=PremiumKind.CHARGE)
    assert charge.amount_fen == 239
    assert charge.transfer.kind == TransferKind.PREMIUM
    assert "保费收取" in charge.transfer.memo
    legs = {(e.account.kind, e.amount_fen) for e in charge.transfer.entries.select_related("account")}
    assert legs == {(AccountKind.DEPOSIT, -239), (AccountKind.INSURER, 239)}
    assert deposit(world) == before - 239


def test_the_window_length_comes_from_the_product(world):
    world.set_terms(window_days=7)

    policy = world.line(world.buy(succeed=False)).policy

    assert policy.window_ends_at - policy.window_starts_at == timedelta(days=7)


def test_it_insures_what_the_buyer_actually_paid(world):
    """Fact 4's 实付款: after shop and platform coupons, split over the lines to the fen."""
    second = SkuFactory(listing=world.sku.listing, specs={"颜色": "白色", "尺码": "M"}, price_fen=12_900)
    second_item = CampaignItemFactory(campaign=world.campaign, sku=second, campaign_price_fen=9_900)
    coverage_turn_on(campaign_item=second_item, seller=world.seller)
    until = timezone.now() + timedelta(days=30)
    shop_coupon = coupon_issue(shop=world.tmall, name="店铺券", amount_fen=1_001, valid_until=until)
    red_packet = coupon_issue(shop=None, name="红包", amount_fen=333, valid_until=until)

    order = order_place(
        buyer=world.alice,
        address=world.alice_address,
        items=[(world.sku, 1), (second, 1)],
        shop_coupon=shop_coupon,
        platform_coupon=red_packet,
    )
    order_pay(order=order, buyer=world.alice)

    black, white = order.lines.order_by("pk")
    assert (black.shop_discount_fen, white.shop_discount_fen) == (617, 384)
    assert (black.platform_discount_fen, white.platform_discount_fen) == (205, 128)
    assert (black.policy.insured_fen, white.policy.insured_fen) == (15_900 - 617 - 205, 9_900 - 384 - 128)
    assert black.policy.insured_fen + white.policy.insured_fen == order.paid_fen == 25_800 - 1_001 - 333


@pytest.mark.parametrize(
    "insured,rate,premium",
    [
        (15_900, 150, 239),  # 238.5 rounds half up
        (31_800, 150, 477),
        (10_000, 100, 100),
        (49, 100, 1),  # at least one fen
        (1, 1, 1),
        (0, 150, 0),
        (10_000, 10_000, 10_000),
    ],
)
def test_premium_is_exact_to_the_fen(insured, rate, premium):
    assert premium_for(insured_fen=insured, rate_bp=rate) == premium


def test_no_policy_for_a_line_outside_the_campaign(world):
    """Fact 3: the same product bought in the Taobao shop is not a Juhuasuan purchase."""
    order = world.buy(sku=world.other_shop_sku)

    assert world.line(order).campaign_item is None
    assert not Policy.objects.exists()


def test_no_policy_for_an_order_paid_after_the_campaign_ended(world):
    """Fact 3: placed in the campaign at the campaign price, but paid after it ended."""
    order = order_place(buyer=world.alice, address=world.alice_address, items=[(world.sku, 1)])
    world.end_campaign()

    order_pay(order=order, buyer=world.alice)

    assert world.line(order).campaign_item == world.item
    assert not Policy.objects.exists()
    assert deposit(world) == 1_000_000


def test_no_policy_for_an_order_placed_before_the_campaign_started(world):
    Campaign.objects.filter(pk=world.campaign.pk).update(
        starts_at=timezone.now() + timedelta(hours=1), state=CampaignState.SCHEDULED
    )

    order = world.buy()

    assert world.line(order).unit_price_fen == 19_900
    assert not Policy.objects.exists()


def test_paying_twice_issues_one_policy_and_one_premium(world):
    order = world.buy(succeed=False)

    order_pay(order=order, buyer=world.alice)

    assert Policy.objects.count() == 1
    assert Premium.objects.count() == 1
    assert deposit(world) == 1_000_000 - 239


def test_a_line_has_one_policy_at_most(world):
    """Fact 9: the one-to-one on the order line makes a second policy impossible."""
    policy = world.line(world.buy()).policy

    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(
            number="BD-SECOND",
            coverage=policy.coverage,
            insurer=policy.insurer,
            product=policy.product,
            premium_rate_bp=policy.premium_rate_bp,
            window_days=policy.window_days,
            order_line=policy.order_line,
            buyer=world.alice,
            seller=world.seller,
            insured_fen=1,
            premium_fen=1,
            window_starts_at=policy.window_starts_at,
            window_ends_at=policy.window_ends_at,
        )


def test_a_promised_policy_is_issued_when_the_deposit_runs_dry(world):
    """The buyer saw the coverage at checkout, so the policy is issued; the premium comes from the
    seller's balance and coverage stops until the deposit is topped up."""
    world.set_terms(rate_bp=10_000)
    world.buy(quantity=62)  # a ¥9,858.00 premium leaves ¥142.00 of deposit
    assert deposit(world) == 1_000_000 - 985_800
    seller_before = user_account(user=world.seller.user, kind=AccountKind.SELLER).balance_fen

    order = world.buy(world.bob, succeed=False)

    policy = world.line(order).policy
    assert policy.premium_fen == 15_900
    assert deposit(world) == 14_200
    seller_after = user_account(user=world.seller.user, kind=AccountKind.SELLER).balance_fen
    assert seller_after == seller_before - 15_900
    world.coverage.refresh_from_db()
    assert not world.coverage.enabled
    assert not Policy.objects.filter(order_line=world.line(world.buy(world.bob))).exists()
    assert ledger_discrepancies() == []


def test_a_premium_drawn_from_the_sellers_balance_is_refunded_to_it(world):
    """When the deposit had run dry the premium came from the seller's balance: voiding the
    policy before its window opens pays the premium back there, not into the deposit."""
    world.set_terms(rate_bp=10_000)
    world.buy(quantity=62)
    order = world.buy(world.bob, succeed=False)
    deposit_before = deposit(world)
    seller_before = user_account(user=world.seller.user, kind=AccountKind.SELLER).balance_fen

    order_refund(order=order)

    assert deposit(world) == deposit_before
    assert user_account(user=world.seller.user, kind=AccountKind.SELLER).balance_fen == seller_before + 15_900
    assert ledger_discrepancies() == []


# --- lifecycle ------------------------------------------------------------------------------


def test_it_becomes_claimable_when_the_trade_succeeded_and_the_campaign_ended(world):
    policy = world.line(world.buy()).policy
    assert policy_windows_advance()["opened"] == 0  # the campaign is still on
    world.end_campaign()

    assert policy_windows_advance() == {"opened": 1, "expired": 0, "settled": 0}

    assert refreshed(policy).state == PolicyState.CLAIMABLE
    assert policy.claimable_at is not None


def test_it_stays_pending_until_the_trade_succeeds(world):
    order = world.buy(succeed=False)
    world.end_campaign()

    policy_windows_advance()

    policy = world.line(order).policy
    assert policy.state == PolicyState.PENDING


def test_it_becomes_claimable_on_receipt_after_the_campaign_ended(world):
    order = world.buy(succeed=False)
    world.end_campaign()

    order_ship(order=order)
    order_confirm_receipt(order=order, buyer=world.alice)

    assert world.line(order).policy.state == PolicyState.CLAIMABLE


def test_receipt_during_the_campaign_leaves_it_pending(world):
    order = world.buy()

    assert world.line(order).policy.state == PolicyState.PENDING


def test_it_expires_when_the_window_closes_unclaimed(world):
    policy = world.line(world.buy()).policy
    world.end_campaign()
    policy_windows_advance()
    policy = refreshed(policy)

    just_before = policy_windows_advance(now=policy.window_ends_at - timedelta(seconds=1))
    assert just_before["expired"] == 0
    assert policy_windows_advance(now=policy.window_ends_at)["expired"] == 1

    assert refreshed(policy).state == PolicyState.EXPIRED
    assert policy.expired_at == policy.window_ends_at


def test_a_pending_policy_expires_too(world):
    """A trade that never succeeded within the window never became claimable."""
    order = world.buy(succeed=False)
    world.end_campaign(days_ago=15)

    policy_windows_advance()

    assert world.line(order).policy.state == PolicyState.EXPIRED


def test_the_window_sweep_settles_the_campaign(world):
    policy = world.line(world.buy()).policy
    world.end_campaign()
    policy_windows_advance()
    policy = refreshed(policy)

    result = policy_windows_advance(now=policy.window_ends_at)

    assert result == {"opened": 0, "expired": 1, "settled": 1}
    world.campaign.refresh_from_db()
    assert world.campaign.state == CampaignState.SETTLED


def test_running_the_window_sweep_twice_changes_things_once(world):
    first_policy = world.line(world.buy()).policy
    world.buy(succeed=False)
    world.end_campaign()
    assert policy_windows_advance()["opened"] == 1
    later = refreshed(first_policy).window_ends_at
    assert policy_windows_advance(now=later) == {"opened": 0, "expired": 2, "settled": 1}
    events = audit_history(first_policy).count()

    assert policy_windows_advance() == {"opened": 0, "expired": 0, "settled": 0}
    assert policy_windows_advance(now=later) == {"opened": 0, "expired": 0, "settled": 0}

    assert audit_history(first_policy).count() == events
    assert set(Policy.objects.values_list("state", flat=True)) == {PolicyState.EXPIRED}


def test_the_window_sweep_works_in_batches(world):
    for _ in range(3):
        world.buy()
    world.end_campaign()

    assert policy_windows_advance(batch_size=2)["opened"] == 3

    assert set(Policy.objects.values_list("state", flat=True)) == {PolicyState.CLAIMABLE}


def test_a_voided_policy_is_neither_opened_nor_expired(world):
    order = world.buy()
    order_refund(order=order)
    world.end_campaign()

    policy_windows_advance()
    policy_windows_advance(now=timezone.now() + timedelta(days=30))

    assert world.line(order).policy.state == PolicyState.VOIDED


def test_the_window_sweep_audits_every_policy_it_moves(world):
    """Issue 10.8: each policy the sweep opens or expires gets its audit row, with the state it
    came from, once, even when one run expires claimable and pending policies alike."""
    opened = [world.line(world.buy()).policy for _ in range(3)]
    never_received = world.line(world.buy(succeed=False)).policy
    world.end_campaign()

    assert policy_windows_advance(batch_size=2)["opened"] == 3
    later = refreshed(opened[0]).window_ends_at
    assert policy_windows_advance(now=later, batch_size=2)["expired"] == 4

    def moves(policy: Policy) -> list[tuple[str, str, str]]:
        return [
            (e.action, e.from_state, e.to_state) for e in audit_history(policy).exclude(action="policy_issue")
        ]

    for policy in opened:
        assert moves(policy) == [
            ("policy_open", PolicyState.PENDING, PolicyState.CLAIMABLE),
            ("policy_expire", PolicyState.CLAIMABLE, PolicyState.EXPIRED),
        ]
    assert moves(never_received) == [("policy_expire", PolicyState.PENDING, PolicyState.EXPIRED)]
