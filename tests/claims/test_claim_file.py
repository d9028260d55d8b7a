"""申请理赔: filing a claim with the evidence order's number (facts 6 and 9)."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from claims.errors import ClaimRefused
from claims.models import Claim, ClaimState
from claims.services import claim_adjudicate, claim_file
from core.errors import InvalidInput
from core.selectors import audit_history
from insurance.services import coverage_turn_off
from orders.models import Order
from shops.services import sku_price_change


@pytest.fixture
def cheaper(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)


def test_it_files_a_claim_for_the_insured_line(world, insured_line, cheaper, place_evidence):
    """Fact 6: on the original order's line, the buyer enters the evidence order's number."""
    evidence = place_evidence()

    claim = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)

    assert claim.state == ClaimState.SUBMITTED
    assert claim.policy == insured_line.policy
    assert claim.buyer == world.alice
    assert claim.evidence_order_number == evidence.number
    assert claim.number.startswith("LP")
    assert claim.filed_at <= timezone.now()
    [event] = audit_history(claim)
    assert (event.action, event.actor, event.to_state) == ("claim_file", world.alice, ClaimState.SUBMITTED)


def test_it_adjudicates_after_commit(
    world, insured_line, cheaper, place_evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        claim = claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )
    assert len(callbacks) == 2  # adjudication first, then the e-mail of the seller's notice
    claim.refresh_from_db()
    assert claim.state == ClaimState.SUBMITTED  # nothing ran inside the filing transaction

    callbacks[0]()

    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED


def test_it_pays_once_the_callbacks_run(
    world, insured_line, cheaper, place_evidence, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(
            order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
        )

    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert claim.payout.amount_fen == 1_000


def test_it_returns_the_same_claim_for_the_same_evidence(
    world, insured_line, cheaper, place_evidence, django_capture_on_commit_callbacks
):
    evidence = place_evidence()
    first = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)

    with django_capture_on_commit_callbacks() as callbacks:
        second = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)

    assert second == first
    assert Claim.objects.count() == 1
    assert callbacks == []  # not queued twice
    assert audit_history(first).count() == 1


def test_it_returns_the_claim_in_review_for_the_same_evidence(world, insured_line, place_evidence):
    sku_price_change(sku=world.other_shop_sku, price_fen=5_000)  # a steep drop goes to staff
    evidence = place_evidence()
    claim = claim_adjudicate(
        claim=claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)
    )
    assert claim.state == ClaimState.IN_REVIEW

    again = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)

    assert again == claim


def test_it_refuses_a_second_claim_with_other_evidence_while_one_is_in_flight(
    world, insured_line, cheaper, place_evidence
):
    claim_file(order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice)

    with pytest.raises(ClaimRefused) as refused:
        claim_file(order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice)

    assert refused.value.code == "already_claimed"
    assert Claim.objects.count() == 1


def test_it_refuses_another_claim_once_one_was_paid(
    world, insured_line, cheaper, place_evidence, django_capture_on_commit_callbacks
):
    """Fact 9: one item of one order gets the service once (一笔订单的同一商品只能享受一次)."""
    evidence = place_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        paid = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)
    paid.refresh_from_db()
    assert paid.state == ClaimState.PAID
    sku_price_change(sku=world.other_shop_sku, price_fen=9_900)

    for number in (evidence.number, place_evidence().number):
        with pytest.raises(ClaimRefused) as refused:
            claim_file(order_line=insured_line, evidence_order_number=number, buyer=world.alice)
        assert refused.value.code == "already_claimed"

    assert Claim.objects.count() == 1


def test_it_accepts_a_new_claim_with_other_evidence_after_a_rejection(world, insured_line, place_evidence):
    """Fact 9: a rejected claim may be filed again with other evidence while the window is open."""
    dearer = place_evidence()  # ¥189.00: no price drop
    rejected = claim_adjudicate(
        claim=claim_file(order_line=insured_line, evidence_order_number=dearer.number, buyer=world.alice)
    )
    assert rejected.state == ClaimState.REJECTED
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)

    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )

    assert claim != rejected
    assert claim_adjudicate(claim=claim).state == ClaimState.APPROVED
    assert insured_line.policy.claims.count() == 2


def test_the_database_holds_one_claim_in_flight_per_policy(world, insured_line, place_evidence):
    """Fact 9, made impossible rather than unlikely: a unique constraint on the policy."""
    first = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            number="LP-SECOND",
            policy=first.policy,
            buyer=world.alice,
            evidence_order_number="X1",
            filed_at=timezone.now(),
        )


def test_it_refuses_another_buyers_order_line(
    world, insured_line, cheaper, place_evidence, mallory, mallory_address
):
    """Only the buyer of the insured order files on it; mallory sees no such order."""
    evidence = place_evidence(mallory, address=mallory_address)

    with pytest.raises(ClaimRefused) as refused:
        claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=mallory)

    assert refused.value.code == "not_found"
    assert not Claim.objects.exists()


def test_it_refuses_a_line_without_policy(world, place_evidence):
    order = world.buy(sku=world.other_shop_sku)

    with pytest.raises(ClaimRefused) as refused:
        claim_file(
            order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
        )

    assert refused.value.code == "not_insured"
    assert refused.value.message
    assert not Claim.objects.exists()


def test_it_refuses_a_line_bought_after_coverage_was_turned_off(world, place_evidence):
    coverage_turn_off(coverage=world.coverage, seller=world.seller)
    order = world.buy()
    world.end_campaign()

    with pytest.raises(ClaimRefused) as refused:
        claim_file(
            order_line=world.line(order), evidence_order_number=place_evidence().number, buyer=world.alice
        )

    assert refused.value.code == "not_insured"


@pytest.mark.parametrize(
    "number",
    ["", "   ", None, "JHS-2026", "JHS 2026", "订单2026", "２０２６－１", "1" * 33, "'; DROP TABLE"],
)
def test_it_refuses_a_malformed_evidence_number(world, insured_line, number):
    with pytest.raises(InvalidInput) as refused:
        claim_file(order_line=insured_line, evidence_order_number=number, buyer=world.alice)

    assert refused.value.code == "invalid_evidence_number"
    assert not Claim.objects.exists()


def numbered(order, number: str):
    """The order, renumbered (order numbers are generated; these tests need particular ones)."""
    Order.objects.filter(pk=order.pk).update(number=number)
    return number


def test_it_normalises_full_width_and_surrounding_space_in_the_evidence_number(
    world, insured_line, place_evidence
):
    numbered(place_evidence(), "JHS202601")

    claim = claim_file(
        order_line=insured_line, evidence_order_number=" ＪＨＳ２０２６０１ ", buyer=world.alice
    )

    assert claim.evidence_order_number == "JHS202601"


def test_it_accepts_a_32_character_evidence_number(world, insured_line, place_evidence):
    numbered(place_evidence(), "A" * 32)

    claim = claim_file(order_line=insured_line, evidence_order_number="A" * 32, buyer=world.alice)

    assert claim.evidence_order_number == "A" * 32


@pytest.mark.parametrize("typed", ["JHS000000000000", "A" * 32])
def test_it_refuses_a_well_formed_number_no_order_has(world, insured_line, place_evidence, typed):
    """Issue 10.10: a mistyped number is refused at once, beside the field, and leaves no
    rejected claim on the buyer's page, the seller's claims or the seller's statistics."""
    place_evidence()

    with pytest.raises(ClaimRefused) as refused:
        claim_file(order_line=insured_line, evidence_order_number=typed, buyer=world.alice)

    assert (refused.value.code, refused.value.status) == ("evidence_not_found", 400)
    assert refused.value.message == f"找不到订单号为 {typed} 的订单。"
    assert not Claim.objects.exists()
    assert not audit_history(insured_line.policy).filter(action="claim_file").exists()


def test_a_refused_number_may_be_corrected(world, insured_line, cheaper, place_evidence):
    evidence = place_evidence()
    with pytest.raises(ClaimRefused):
        claim_file(order_line=insured_line, evidence_order_number=evidence.number + "1", buyer=world.alice)

    claim = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)

    assert claim_adjudicate(claim=claim).state == ClaimState.APPROVED
