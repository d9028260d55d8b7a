"""The crash test's own check (scripts/crash_settlement.py) reads each claim's payout from the
ledger alone, against buyers and amounts recorded before settlement: it sees a payout to the wrong
buyer, of the wrong amount, a missing one and a second one, and a balance that moved wrongly."""

import importlib.util
import sys

import pytest
from django.conf import settings

from alipay.models import Account, AccountKind, Entry, Transfer, TransferKind
from claims.models import Claim, ClaimState, Payout
from claims.services import claim_file
from shops.services import sku_price_change


def _crash_script():
    scripts = settings.BASE_DIR / "scripts"
    if str(scripts) not in sys.path:
        sys.path.append(str(scripts))  # the script imports crash_servers from beside it
    spec = importlib.util.spec_from_file_location("crash_settlement", scripts / "crash_settlement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


crash = _crash_script()


@pytest.fixture
def settled(world, insured_line, place_evidence, django_capture_on_commit_callbacks):
    """Alice's claim of ¥30.00 paid by settlement; what she was owed, recorded before, and the
    balances before."""
    sku_price_change(sku=world.other_shop_sku, price_fen=12_900)
    before, _insurer = crash.balances({world.alice.pk, world.bob.pk})
    evidence = place_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    expected = {claim.pk: (world.alice.pk, 3_000)}
    return claim, expected, before, world.coverage.insurer.code


def audit(expected, insurer, before=None):
    found = crash.audit_payouts(expected, insurer_code=insurer, before=before)
    return {key: n for key, n in found.items() if n}


def _move(entry: Entry, to: Account) -> None:
    """Move one leg to another account, keeping every balance equal to its rows."""
    Entry.objects.filter(pk=entry.pk).update(account=to)
    Account.objects.filter(pk=entry.account_id).update(
        balance_fen=entry.account.balance_fen - entry.amount_fen
    )
    Account.objects.filter(pk=to.pk).update(balance_fen=to.balance_fen + entry.amount_fen)


def test_a_payout_to_the_right_buyer_of_the_right_amount_passes(settled):
    claim, expected, before, insurer = settled
    assert audit(expected, insurer, before) == {"paid_once": 1}


def test_it_sees_a_payout_credited_to_another_buyer(settled, world):
    claim, expected, before, insurer = settled
    credit = Entry.objects.get(transfer=Payout.objects.get(claim=claim).transfer, amount_fen__gt=0)
    _move(credit, Account.objects.get(user=world.bob, kind=AccountKind.BUYER))
    assert audit(expected, insurer, before) == {"wrong_account": 1, "balance_mismatches": 1}


def test_it_sees_a_payout_of_another_amount(settled):
    claim, expected, before, insurer = settled
    (claim_id, (buyer, amount)) = next(iter(expected.items()))
    assert audit({claim_id: (buyer, amount + 1)}, insurer, before) == {
        "wrong_amount": 1,
        "balance_mismatches": 1,
    }


def test_it_sees_a_claim_paid_twice_and_a_claim_not_paid(settled):
    claim, expected, before, insurer = settled
    first = Payout.objects.get(claim=claim).transfer
    again = Transfer.objects.create(key="payout-again", kind=TransferKind.PAYOUT, reference=first.reference)
    for leg in Entry.objects.filter(transfer=first):
        Entry.objects.create(transfer=again, account=leg.account, amount_fen=leg.amount_fen)
    unpaid = Claim.objects.exclude(pk=claim.pk).values_list("pk", flat=True).first() or claim.pk + 1_000
    found = audit({**expected, unpaid: (claim.buyer_id, 500)}, insurer)
    assert found == {"double": 1, "unpaid": 1}


def test_the_product_reconciliation_catches_the_wrong_buyer_too(settled, world):
    from claims.reconciliation import discrepancies

    claim, _expected, _before, _insurer = settled
    credit = Entry.objects.get(transfer=Payout.objects.get(claim=claim).transfer, amount_fen__gt=0)
    _move(credit, Account.objects.get(user=world.bob, kind=AccountKind.BUYER))
    assert {d.code for d in discrepancies()} == {"payout_wrong_account"}
