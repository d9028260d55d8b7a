"""Staff review: what sends a claim to a human, and what the human must write to decide it."""

import pytest

from alipay.selectors import account_balance_fen
from claims.errors import ClaimRefused
from claims.models import Claim, ClaimState, Payout
from claims.services import (
    claim_adjudicate,
    claim_file,
    claim_review_approve,
    claim_review_reject,
    claims_settle,
)
from core.errors import InvalidInput
from core.selectors import audit_history
from shops.services import sku_price_change


def file_and_decide(world, line, evidence) -> Claim:
    claim = claim_file(order_line=line, evidence_order_number=evidence.number, buyer=world.alice)
    return claim_adjudicate(claim=claim)


def with_threshold(world, threshold_fen: int) -> None:
    world.set_terms(review_threshold_fen=threshold_fen)


@pytest.fixture
def in_review(world, place_evidence) -> Claim:
    """Alice's ¥10.00 claim, held for staff because her policy reviews anything above ¥5.00."""
    with_threshold(world, 500)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    claim = file_and_decide(world, world.line(order), place_evidence())
    assert claim.state == ClaimState.IN_REVIEW
    return claim


# --- what goes to review --------------------------------------------------------------------


def test_it_sends_an_amount_above_the_review_threshold_to_staff(in_review):
    assert in_review.review_reasons == ["amount_above_threshold"]
    assert in_review.compensation_fen == 1_000
    assert all(check["result"] == "passed" for check in in_review.checks)
    assert in_review.evidence_order is not None  # it holds its evidence while in review


def test_it_approves_an_amount_at_the_threshold_without_review(world, place_evidence):
    with_threshold(world, 1_000)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = file_and_decide(world, world.line(order), place_evidence())

    assert claim.state == ClaimState.APPROVED
    assert claim.review_reasons == []


def test_it_sends_a_steep_drop_to_staff(world, insured_line, place_evidence):
    """¥79.00 is less than half of ¥159.00."""
    sku_price_change(sku=world.other_shop_sku, price_fen=7_900)

    claim = file_and_decide(world, insured_line, place_evidence())

    assert claim.state == ClaimState.IN_REVIEW
    assert claim.review_reasons == ["steep_drop"]
    assert claim.compensation_fen == 8_000
    # The values the rule compared are kept with the decision, for staff.
    decided = audit_history(claim).get(action="claim_adjudicate")
    assert decided.reason == "steep_drop"
    assert decided.data == {"review": {"steep_drop": {"evidence_fen": 7_900, "paid_fen": 15_900}}}


def test_it_approves_a_drop_to_exactly_half(world, place_evidence):
    order = world.buy(quantity=2)  # ¥318.00
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=7_950)  # 2 × ¥79.50 = ¥159.00

    claim = file_and_decide(world, world.line(order), place_evidence(quantity=2))

    assert claim.state == ClaimState.APPROVED
    assert claim.compensation_fen == 15_900


def test_it_lists_every_review_reason(world, place_evidence):
    with_threshold(world, 0)
    order = world.buy()
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=100)

    claim = file_and_decide(world, world.line(order), place_evidence())

    assert claim.review_reasons == ["amount_above_threshold", "steep_drop"]


def test_it_does_not_pay_a_claim_in_review(world, in_review):
    before = account_balance_fen(world.alice)

    assert claims_settle() == 0

    assert account_balance_fen(world.alice) == before
    assert not Payout.objects.exists()


# --- staff decisions ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_approval_needs_a_reason(in_review, staff, reason):
    with pytest.raises(InvalidInput) as refused:
        claim_review_approve(claim=in_review, staff=staff, reason=reason)

    assert refused.value.code == "reason_required"
    in_review.refresh_from_db()
    assert in_review.state == ClaimState.IN_REVIEW
    assert in_review.decided_by is None


@pytest.mark.parametrize("reason", ["", "\n\t", None])
def test_rejection_needs_a_reason(in_review, staff, reason):
    with pytest.raises(InvalidInput) as refused:
        claim_review_reject(claim=in_review, staff=staff, reason=reason)

    assert refused.value.code == "reason_required"
    in_review.refresh_from_db()
    assert in_review.state == ClaimState.IN_REVIEW


def test_a_reason_has_a_limit(in_review, staff):
    with pytest.raises(InvalidInput) as refused:
        claim_review_approve(claim=in_review, staff=staff, reason="x" * 2_001)

    assert refused.value.code == "reason_too_long"
    in_review.refresh_from_db()
    assert in_review.state == ClaimState.IN_REVIEW


def test_approval_then_settlement_pays_the_buyer(world, in_review, staff, django_capture_on_commit_callbacks):
    before = account_balance_fen(world.alice)

    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review_approve(claim=in_review, staff=staff, reason="核实为真实降价")

    assert claim.decided_by == staff
    assert claim.decision_reason == "核实为真实降价"
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert claim.payout.amount_fen == 1_000
    assert account_balance_fen(world.alice) == before + 1_000
    event = audit_history(claim).get(action="claim_review")
    assert (event.actor, event.from_state, event.to_state, event.reason) == (
        staff,
        ClaimState.IN_REVIEW,
        ClaimState.APPROVED,
        "核实为真实降价",
    )


def test_rejection_pays_nothing_and_releases_the_policy(
    world, in_review, staff, place_evidence, django_capture_on_commit_callbacks
):
    before = account_balance_fen(world.alice)

    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review_reject(claim=in_review, staff=staff, reason="举证订单疑似刷单")

    claim.refresh_from_db()
    assert claim.state == ClaimState.REJECTED
    assert claims_settle() == 0
    assert account_balance_fen(world.alice) == before
    # The policy may be claimed again with other evidence.
    line = claim.policy.order_line
    again = claim_file(order_line=line, evidence_order_number=place_evidence().number, buyer=world.alice)
    assert again.state == ClaimState.SUBMITTED


def test_approving_twice_approves_once(world, in_review, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        claim_review_approve(claim=in_review, staff=staff, reason="核实")
    before = account_balance_fen(world.alice)

    with django_capture_on_commit_callbacks(execute=True):
        again = claim_review_approve(claim=in_review, staff=staff, reason="核实")

    assert again.state == ClaimState.PAID
    assert account_balance_fen(world.alice) == before
    assert audit_history(in_review).filter(action="claim_review").count() == 1
    assert Payout.objects.count() == 1


def test_approving_twice_before_settlement_approves_once(in_review, staff):
    first = claim_review_approve(claim=in_review, staff=staff, reason="核实")

    again = claim_review_approve(claim=in_review, staff=staff, reason="核实")

    assert again.state == first.state == ClaimState.APPROVED
    assert again.decided_at == first.decided_at
    assert audit_history(in_review).filter(action="claim_review").count() == 1


def test_rejecting_twice_rejects_once(in_review, staff):
    claim_review_reject(claim=in_review, staff=staff, reason="不符合")

    again = claim_review_reject(claim=in_review, staff=staff, reason="不符合")

    assert again.state == ClaimState.REJECTED
    assert audit_history(in_review).filter(action="claim_review").count() == 1


def test_staff_cannot_reverse_a_decision(in_review, staff):
    claim_review_reject(claim=in_review, staff=staff, reason="不符合")

    with pytest.raises(ClaimRefused) as refused:
        claim_review_approve(claim=in_review, staff=staff, reason="改判")

    assert refused.value.code == "claim_not_in_review"
    in_review.refresh_from_db()
    assert in_review.state == ClaimState.REJECTED


def test_staff_only_review_claims_in_review(world, insured_line, place_evidence, staff):
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )

    with pytest.raises(ClaimRefused) as refused:
        claim_review_approve(claim=claim, staff=staff, reason="直接通过")

    assert refused.value.code == "claim_not_in_review"
    claim.refresh_from_db()
    assert claim.state == ClaimState.SUBMITTED


def test_only_insurer_staff_may_review(
    world, insured_line, place_evidence, django_capture_on_commit_callbacks
):
    """A buyer (or a staff user without the review permission) is refused and nothing changes."""
    from claims.services import claim_file, claim_review_approve
    from shops.services import sku_price_change
    from tests.factories import UserFactory

    insured_line.policy.review_threshold_fen = 0
    insured_line.policy.save(update_fields=["review_threshold_fen"])
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )
    claim.refresh_from_db()
    assert claim.state == "in_review"
    for user in (world.alice, UserFactory(username="clerk", is_staff=True)):
        with pytest.raises(ClaimRefused) as refused:
            claim_review_approve(claim=claim, staff=user, reason="looks fine")
        assert refused.value.code == "not_staff"
    claim.refresh_from_db()
    assert claim.state == "in_review"
