"""Settlement: approved claims paid into buyers' Alipay balances, in batches, exactly once (fact 7)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from alipay.models import AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import account_balance_fen, ledger_discrepancies
from alipay.services import insurer_account
from claims import tasks
from claims.models import Claim, ClaimState, Payout
from claims.services import claim_adjudicate, claim_file, claims_settle, claims_settle_batch, claims_sweep
from core.selectors import audit_history
from insurance.models import Policy, PolicyState
from insurance.services import policy_windows_advance
from shops.services import sku_price_change


@pytest.fixture
def cheaper(world):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)


def approved_claim(world, line, evidence, buyer=None) -> Claim:
    claim = claim_file(order_line=line, evidence_order_number=evidence.number, buyer=buyer or world.alice)
    claim = claim_adjudicate(claim=claim)
    assert claim.state == ClaimState.APPROVED
    return claim


def insurer_balance(world) -> int:
    insurer = world.coverage.insurer
    return insurer_account(code=insurer.code, name=insurer.name).balance_fen


def test_it_credits_exactly_the_difference(world, insured_line, cheaper, place_evidence):
    """Fact 7: approved, the difference goes straight into the buyer's Alipay balance."""
    claim = approved_claim(world, insured_line, place_evidence())
    alice_before, insurer_before = account_balance_fen(world.alice), insurer_balance(world)

    assert claims_settle() == 1

    assert account_balance_fen(world.alice) == alice_before + 1_000
    assert insurer_balance(world) == insurer_before - 1_000
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert claim.paid_at is not None
    payout = Payout.objects.get(claim=claim)
    assert payout.amount_fen == 1_000
    assert payout.clawed_back_fen == 0
    assert payout.transfer.kind == TransferKind.PAYOUT
    assert payout.transfer.reference == f"claim:{claim.pk}"
    legs = {(e.account.kind, e.amount_fen) for e in payout.transfer.entries.select_related("account")}
    assert legs == {(AccountKind.INSURER, -1_000), (AccountKind.BUYER, 1_000)}
    assert ledger_discrepancies() == []


def test_it_marks_the_policy_claimed(world, insured_line, cheaper, place_evidence):
    approved_claim(world, insured_line, place_evidence())

    claims_settle()

    policy = insured_line.policy
    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMED
    assert policy.claimed_at is not None


def test_a_policy_claimed_before_the_window_sweep_ran_stays_claimed(world, cheaper, place_evidence):
    """The trade succeeded and the campaign ended, but the sweep that opens windows had not run
    yet: the paid policy is claimed, and a later sweep neither reopens nor expires it."""
    order = world.buy()
    world.end_campaign()
    approved_claim(world, world.line(order), place_evidence())

    claims_settle()
    policy_windows_advance()
    policy_windows_advance(now=timezone.now() + timedelta(days=16))

    policy = world.line(order).policy
    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMED


def test_a_policy_expired_while_its_claim_was_filed_ends_claimed(
    world, insured_line, cheaper, place_evidence
):
    """Issue 10.8 (SPEC, policy lifecycle): a claim filed inside the window is paid even if the
    window closed meanwhile, and its policy ends claimed, not expired. Here the window sweep
    expired the policy in the instant the claim was filed (its snapshot did not see the claim yet,
    which this test stands in for with the sweep's own UPDATE)."""
    claim = approved_claim(world, insured_line, place_evidence())
    policy = insured_line.policy
    Policy.objects.filter(pk=policy.pk).update(state=PolicyState.EXPIRED, expired_at=policy.window_ends_at)

    assert claims_settle() == 1

    policy.refresh_from_db()
    assert policy.state == PolicyState.CLAIMED
    assert policy.claimed_at is not None
    claimed = audit_history(policy).get(action="policy_claimed")
    assert (claimed.from_state, claimed.to_state) == (PolicyState.EXPIRED, PolicyState.CLAIMED)
    assert Payout.objects.get(claim=claim).amount_fen == 1_000


def test_settling_twice_pays_once(world, insured_line, cheaper, place_evidence):
    approved_claim(world, insured_line, place_evidence())
    claims_settle()
    balance, entries = account_balance_fen(world.alice), Entry.objects.count()

    assert claims_settle() == 0
    assert claims_settle_batch() == 0
    assert tasks.claims_settle.delay().get() == 0

    assert account_balance_fen(world.alice) == balance
    assert Entry.objects.count() == entries
    assert Payout.objects.count() == 1


def test_it_pays_several_buyers_in_batches(world, cheaper, place_evidence):
    alice_orders = [world.buy(), world.buy(quantity=2)]
    bob_order = world.buy(world.bob)
    world.end_campaign()
    approved_claim(world, world.line(alice_orders[0]), place_evidence())
    approved_claim(world, world.line(alice_orders[1]), place_evidence(quantity=2))
    approved_claim(world, world.line(bob_order), place_evidence(world.bob), buyer=world.bob)
    alice_before, bob_before = account_balance_fen(world.alice), account_balance_fen(world.bob)

    assert claims_settle(batch_size=2, max_batches=1) == 2
    assert Claim.objects.filter(state=ClaimState.APPROVED).count() == 1
    assert claims_settle(batch_size=1) == 1

    assert account_balance_fen(world.alice) == alice_before + 1_000 + 2_000
    assert account_balance_fen(world.bob) == bob_before + 1_000
    assert set(Claim.objects.values_list("state", flat=True)) == {ClaimState.PAID}
    assert ledger_discrepancies() == []


def test_a_second_payout_for_a_claim_is_impossible(world, insured_line, cheaper, place_evidence):
    claim = approved_claim(world, insured_line, place_evidence())
    claims_settle()
    transfer = Transfer.objects.filter(kind=TransferKind.TOP_UP).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(claim=claim, amount_fen=1_000, transfer=transfer)


def test_the_sweep_requeues_a_claim_the_broker_lost(world, insured_line, cheaper, place_evidence):
    """The claim was stored but its adjudication message never ran; the sweep finds the row and
    (with eager tasks) adjudicates and settles it."""
    claim = claim_file(
        order_line=insured_line, evidence_order_number=place_evidence().number, buyer=world.alice
    )
    before = account_balance_fen(world.alice)

    assert claims_sweep() == {"requeued": 0, "settle": 0}  # not stuck yet
    assert claims_sweep(now=timezone.now() + timedelta(minutes=5)) == {"requeued": 1, "settle": 1}

    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert account_balance_fen(world.alice) == before + 1_000


@pytest.mark.parametrize("batch_size", [0, -1, True, "10"])
def test_the_settle_task_refuses_a_bad_batch_size(world, insured_line, cheaper, place_evidence, batch_size):
    approved_claim(world, insured_line, place_evidence())

    assert tasks.claims_settle.delay(batch_size).get() == 0

    assert not Payout.objects.exists()


def test_the_adjudicate_task_skips_a_missing_claim(db):
    assert tasks.claim_adjudicate.delay(999_999).get() is None
    assert tasks.claim_adjudicate.delay("1").get() is None


def test_many_new_buyer_accounts_are_analysed_before_the_batch_joins_them(
    world, insured_line, cheaper, place_evidence, monkeypatch
):
    """A campaign's first payouts create thousands of buyer accounts in one batch: on PostgreSQL
    the batch refreshes the table's statistics (inside its transaction) before joining it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims import services

    monkeypatch.setattr(services, "ANALYZE_AFTER_NEW_ACCOUNTS", 0)  # every batch counts as many
    world.end_campaign()
    claim = approved_claim(world, insured_line, place_evidence())
    with CaptureQueriesContext(connection) as queries:
        assert claims_settle_batch() == 1
    analysed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analysed == (["ANALYZE alipay_account"] if connection.vendor == "postgresql" else [])
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    assert ledger_discrepancies() == []
