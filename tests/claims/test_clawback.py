"""Refunds of insured orders: voided policies, premium refunds, rejected claims and clawed-back payouts."""

import pytest

from alipay.models import AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import account_balance_fen, ledger_discrepancies
from alipay.services import insurer_account, user_account
from claims.models import Claim, ClaimState, Payout
from claims.services import claim_adjudicate, claim_file, claim_review_approve, claims_settle
from core.selectors import audit_history
from insurance.models import PolicyState, Premium, PremiumKind
from orders.services import order_line_refund, order_refund
from shops.services import sku_price_change


@pytest.fixture
def cheaper(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)


def deposit(world) -> int:
    return user_account(user=world.seller.user, kind=AccountKind.DEPOSIT).balance_fen


def insurer_balance(world) -> int:
    insurer = world.coverage.insurer
    return insurer_account(code=insurer.code, name=insurer.name).balance_fen


@pytest.fixture
def paid_claim(world, insured_line, cheaper, place_evidence) -> Claim:
    """Alice was paid ¥10.00 on her ¥159.00 line."""
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )
    claim_adjudicate(claim=claim)
    claims_settle()
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    return claim


# --- before any payout ----------------------------------------------------------------------


def test_a_full_refund_before_the_window_voids_the_policy_and_refunds_the_premium(world):
    deposit_before = deposit(world)
    order = world.buy(succeed=False)
    policy = world.line(order).policy
    assert deposit(world) == deposit_before - 239  # 1.5% of ¥159.00, half up

    order_refund(order=order, reason="不想要了")

    policy.refresh_from_db()
    assert policy.state == PolicyState.VOIDED
    assert policy.voided_at is not None
    refund = Premium.objects.get(policy=policy, kind=PremiumKind.REFUND)
    assert refund.amount_fen == 239
    assert refund.transfer.kind == TransferKind.PREMIUM_REFUND
    assert deposit(world) == deposit_before
    assert ledger_discrepancies() == []


def test_a_full_refund_after_the_window_opened_voids_without_a_premium_refund(world, insured_line):
    deposit_before = deposit(world)

    order_refund(order=insured_line.order)

    policy = insured_line.policy
    policy.refresh_from_db()
    assert policy.state == PolicyState.VOIDED
    assert not Premium.objects.filter(kind=PremiumKind.REFUND).exists()
    assert deposit(world) == deposit_before


def test_a_partial_refund_keeps_the_policy(world):
    order = world.buy(succeed=False)

    order_line_refund(line=world.line(order), amount_fen=5_000, request_id="AS-1")

    policy = world.line(order).policy
    assert policy.state == PolicyState.PENDING
    assert not Premium.objects.filter(kind=PremiumKind.REFUND).exists()


def test_partial_refunds_that_add_up_to_the_line_void_the_policy(world):
    order = world.buy(succeed=False)
    line = world.line(order)

    order_line_refund(line=line, amount_fen=10_000, request_id="AS-1")
    order_line_refund(line=line, amount_fen=5_900, request_id="AS-2")

    line.policy.refresh_from_db()
    assert line.policy.state == PolicyState.VOIDED
    assert Premium.objects.get(kind=PremiumKind.REFUND).amount_fen == 239


def test_refunding_twice_refunds_the_premium_once(world):
    deposit_before = deposit(world)
    order = world.buy(succeed=False)

    order_refund(order=order)
    order_refund(order=order)

    assert Premium.objects.filter(kind=PremiumKind.REFUND).count() == 1
    assert deposit(world) == deposit_before


@pytest.mark.parametrize("claim_state", [ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.APPROVED])
def test_a_full_refund_rejects_the_claim_in_flight(world, place_evidence, claim_state):
    world.set_terms(review_threshold_fen=500 if claim_state == ClaimState.IN_REVIEW else None)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    claim = claim_file(
        order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
    )
    if claim_state != ClaimState.SUBMITTED:
        claim = claim_adjudicate(claim=claim)
    assert claim.state == claim_state
    balance_before = account_balance_fen(world.alice)

    order_refund(order=order)

    claim.refresh_from_db()
    assert claim.state == ClaimState.REJECTED
    assert claim.checks[-1] == {"code": "trade_not_successful", "result": "failed", "params": {}}
    assert audit_history(claim).filter(action="claim_reject_refund").exists()
    assert claim_adjudicate(claim=claim).state == ClaimState.REJECTED  # a late worker changes nothing
    assert claims_settle() == 0
    assert not Payout.objects.exists()
    assert account_balance_fen(world.alice) == balance_before + 15_900  # the refund, nothing more


def test_a_partial_refund_during_review_reduces_the_payout(world, place_evidence, staff):
    """The payout is reduced in proportion to a refund made while staff were still reviewing."""
    world.set_terms(review_threshold_fen=500)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    line = world.line(order)
    claim = claim_adjudicate(
        claim=claim_file(order_line=line, evidence_order_number=place_evidence().number, buyer=world.alice)
    )
    assert (claim.state, claim.compensation_fen) == (ClaimState.IN_REVIEW, 1_000)

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1")
    claim_review_approve(claim=claim, staff=staff, reason="核实")
    claims_settle()

    payout = Payout.objects.get(claim=claim)
    assert payout.amount_fen - payout.clawed_back_fen == 685  # ¥10.00 × 109 ÷ 159, rounded down
    assert ledger_discrepancies() == []


# --- after the payout -----------------------------------------------------------------------


def test_a_full_refund_after_payout_claws_back_the_whole_payout(world, paid_claim):
    order = paid_claim.policy.order_line.order
    alice_before, insurer_before = account_balance_fen(world.alice), insurer_balance(world)

    order_refund(order=order, reason="售后退货")

    payout = Payout.objects.get(claim=paid_claim)
    assert payout.clawed_back_fen == 1_000
    clawback = Transfer.objects.get(kind=TransferKind.CLAWBACK)
    legs = {(e.account.kind, e.amount_fen) for e in clawback.entries.select_related("account")}
    assert legs == {(AccountKind.BUYER, -1_000), (AccountKind.INSURER, 1_000)}
    assert account_balance_fen(world.alice) == alice_before + 15_900 - 1_000
    assert insurer_balance(world) == insurer_before + 1_000
    paid_claim.refresh_from_db()
    assert paid_claim.state == ClaimState.PAID  # the claim was paid; the money came back
    policy = paid_claim.policy
    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMED
    assert audit_history(paid_claim).filter(action="payout_clawback").count() == 1
    assert ledger_discrepancies() == []


def test_a_partial_refund_after_payout_claws_back_in_proportion(world, paid_claim):
    """Refunding ¥50.00 of ¥159.00 leaves ¥10.00 × 109 ÷ 159 = ¥6.85 earned: ¥3.15 comes back."""
    line = paid_claim.policy.order_line
    alice_before = account_balance_fen(world.alice)

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1")

    payout = Payout.objects.get(claim=paid_claim)
    assert payout.clawed_back_fen == 315
    assert account_balance_fen(world.alice) == alice_before + 5_000 - 315

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-2")  # ¥10.00 × 59 ÷ 159 = ¥3.71 left
    payout.refresh_from_db()
    assert payout.clawed_back_fen == 1_000 - 371

    order_refund(order=line.order)
    payout.refresh_from_db()
    assert payout.clawed_back_fen == 1_000
    assert Transfer.objects.filter(kind=TransferKind.CLAWBACK).count() == 3
    assert account_balance_fen(world.alice) == alice_before + 15_900 - 1_000
    assert ledger_discrepancies() == []


def test_the_same_refund_request_claws_back_once(world, paid_claim):
    line = paid_claim.policy.order_line
    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1")
    entries = Entry.objects.count()

    order_line_refund(line=line, amount_fen=5_000, request_id="AS-1")
    order_refund(order=line.order)
    order_refund(order=line.order)

    assert Payout.objects.get(claim=paid_claim).clawed_back_fen == 1_000
    assert Transfer.objects.filter(kind=TransferKind.CLAWBACK).count() == 2
    assert Entry.objects.count() == entries + 2 + 2  # one refund, one clawback, two legs each


def test_a_one_fen_refund_claws_back_one_fen_after_rounding(world, paid_claim):
    """¥10.00 × (15,900 − 1) ÷ 15,900 rounds down to ¥9.99: one fen comes back, not zero or two."""
    order_line_refund(line=paid_claim.policy.order_line, amount_fen=1, request_id="AS-1")

    assert Payout.objects.get(claim=paid_claim).clawed_back_fen == 1


def test_a_partial_refund_before_settlement_reduces_the_payout(world, insured_line, cheaper, place_evidence):
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )
    )
    assert claim.state == ClaimState.APPROVED

    order_line_refund(line=insured_line, amount_fen=5_000, request_id="AS-1")
    claims_settle()

    claim.refresh_from_db()
    assert claim.compensation_fen == 685
    assert Payout.objects.get(claim=claim).amount_fen == 685
    assert audit_history(claim).filter(action="claim_reduce_refund").count() == 1


def test_a_partial_refund_that_leaves_nothing_to_pay_rejects_the_claim(world, insured_line, place_evidence):
    """A one-fen drop on half a refunded line rounds down to nothing: no claim waits to pay ¥0.00."""
    sku_price_change(sku=world.other_shop_sku, price_fen=15_899)
    claim = claim_adjudicate(
        claim=claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )
    )
    assert (claim.state, claim.compensation_fen) == (ClaimState.APPROVED, 1)

    order_line_refund(line=insured_line, amount_fen=8_000, request_id="AS-1")

    claim.refresh_from_db()
    assert claim.state == ClaimState.REJECTED
    assert claim.compensation_fen is None
    assert claims_settle() == 0
