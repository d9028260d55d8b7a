"""Reconciliation finds every kind of corruption, and the command exits non-zero on any."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from alipay.models import Account, AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import LISTED_PER_KIND
from alipay.services import insurer_account, system_account
from claims.models import Claim, ClaimState, Payout, ReconciliationRun
from claims.reconciliation import discrepancies, reconciliation_run
from claims.services import claim_file
from claims.tasks import reconcile
from shops.services import sku_price_change


@pytest.fixture
def paid_claim(world, insured_line, place_evidence, django_capture_on_commit_callbacks) -> Claim:
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = place_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_file(order_line=insured_line, evidence_order_number=evidence.number, buyer=world.alice)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID
    return claim


def codes() -> set[str]:
    return {d.code for d in discrepancies()}


def test_it_finds_nothing_wrong_with_a_clean_ledger(paid_claim):
    assert discrepancies() == []
    call_command("reconcile")
    run = ReconciliationRun.objects.get()
    assert run.ok and run.trigger == "command" and run.discrepancies == []


def test_it_reports_a_transfer_that_does_not_sum_to_zero(paid_claim):
    transfer = Transfer.objects.create(key="forged", kind=TransferKind.TOP_UP)
    Entry.objects.create(transfer=transfer, account=system_account(AccountKind.EXTERNAL), amount_fen=-100)
    assert {"transfer_unbalanced", "ledger_not_zero", "balance_mismatch"} <= codes()


def test_it_reports_a_balance_that_differs_from_its_rows(paid_claim):
    Account.objects.filter(user=paid_claim.buyer, kind=AccountKind.BUYER).update(balance_fen=1)
    assert codes() == {"balance_mismatch"}


def test_it_reports_a_negative_balance_where_none_is_allowed(paid_claim):
    account = Account.objects.get(user=paid_claim.buyer, kind=AccountKind.BUYER)
    # The check constraint forbids this; a corrupted database is what reconciliation is for.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before DDL
            cursor.execute("ALTER TABLE alipay_account DROP CONSTRAINT alipay_account_no_negative_balance")
        cursor.execute("UPDATE alipay_account SET balance_fen = -5 WHERE id = %s", [account.pk])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
    assert {"negative_balance", "balance_mismatch"} == codes()


def test_it_reports_a_payout_whose_claim_is_not_paid(paid_claim):
    Claim.objects.filter(pk=paid_claim.pk).update(state=ClaimState.APPROVED)
    assert codes() == {"payout_without_paid_claim"}


def test_it_reports_a_paid_claim_without_a_payout(paid_claim):
    with connection.cursor() as cursor:  # payouts are PROTECTed and append-only: only SQL can lose one
        cursor.execute("DELETE FROM claims_payout WHERE claim_id = %s", [paid_claim.pk])
    assert codes() == {"paid_claim_without_payout"}


def test_it_reports_a_payout_that_differs_from_the_compensation(paid_claim):
    Payout.objects.filter(claim=paid_claim).update(amount_fen=999_999)
    assert {"payout_amount_mismatch", "payout_transfer_mismatch"} <= codes()


def test_it_reports_a_claim_paid_twice(paid_claim):
    payout = Payout.objects.get(claim=paid_claim)
    transfer = Transfer.objects.create(
        key="payout-again", kind=TransferKind.PAYOUT, reference=payout.transfer.reference
    )
    insurer = Entry.objects.filter(transfer=payout.transfer, amount_fen__lt=0).get().account
    buyer = Entry.objects.filter(transfer=payout.transfer, amount_fen__gt=0).get().account
    Entry.objects.create(transfer=transfer, account=insurer, amount_fen=-payout.amount_fen)
    Entry.objects.create(transfer=transfer, account=buyer, amount_fen=payout.amount_fen)
    Account.objects.filter(pk=insurer.pk).update(balance_fen=insurer.balance_fen - payout.amount_fen)
    Account.objects.filter(pk=buyer.pk).update(balance_fen=buyer.balance_fen + payout.amount_fen)
    assert codes() == {"claim_paid_twice"}


def test_it_reports_a_clawback_the_ledger_does_not_show(paid_claim):
    Payout.objects.filter(claim=paid_claim).update(clawed_back_fen=1)
    assert codes() == {"clawback_mismatch"}


def test_the_command_exits_non_zero_and_the_run_is_kept_for_staff(paid_claim):
    Account.objects.filter(user=paid_claim.buyer, kind=AccountKind.BUYER).update(balance_fen=1)
    with pytest.raises(CommandError, match="1 discrepancies"):
        call_command("reconcile")
    run = ReconciliationRun.objects.get()
    assert not run.ok and run.discrepancies[0]["code"] == "balance_mismatch"


def test_the_daily_beat_task_records_its_run(paid_claim):
    assert reconcile.delay().get() is True
    assert ReconciliationRun.objects.get().trigger == "beat"
    assert reconciliation_run(trigger="admin").ok


def test_it_reports_a_payout_credited_to_another_buyer(paid_claim, world):
    # The amounts and the transfer are right and every balance matches its rows, but the money
    # went to bob: only a check of which account was credited can see it.
    payout = Payout.objects.get(claim=paid_claim)
    credit = Entry.objects.get(transfer=payout.transfer, amount_fen__gt=0)
    bob = Account.objects.get(user=world.bob, kind=AccountKind.BUYER)
    Entry.objects.filter(pk=credit.pk).update(account=bob)
    Account.objects.filter(pk=credit.account_id).update(
        balance_fen=credit.account.balance_fen - credit.amount_fen
    )
    Account.objects.filter(pk=bob.pk).update(balance_fen=bob.balance_fen + credit.amount_fen)
    assert codes() == {"payout_wrong_account"}


def test_it_reports_a_payout_debited_from_another_insurer(paid_claim):
    payout = Payout.objects.get(claim=paid_claim)
    debit = Entry.objects.get(transfer=payout.transfer, amount_fen__lt=0)
    other = insurer_account(code="other-insurer", name="另一家保险公司")
    Entry.objects.filter(pk=debit.pk).update(account=other)
    Account.objects.filter(pk=debit.account_id).update(
        balance_fen=debit.account.balance_fen - debit.amount_fen
    )
    Account.objects.filter(pk=other.pk).update(balance_fen=other.balance_fen + debit.amount_fen)
    assert codes() == {"payout_wrong_account"}


def test_it_counts_every_discrepancy_not_only_the_ones_it_lists(paid_claim):
    external = system_account(AccountKind.EXTERNAL)
    forged = Transfer.objects.bulk_create(
        Transfer(key=f"forged-{n}", kind=TransferKind.TOP_UP) for n in range(LISTED_PER_KIND + 50)
    )
    Entry.objects.bulk_create(Entry(transfer=t, account=external, amount_fen=-1) for t in forged)

    run = reconciliation_run(trigger="command")
    assert run.counts == {"transfer_unbalanced": 150, "ledger_not_zero": 1, "balance_mismatch": 1}
    assert run.discrepancy_total == 152
    listed = [d for d in run.discrepancies if d["code"] == "transfer_unbalanced"]
    assert len(listed) == LISTED_PER_KIND
    with pytest.raises(CommandError, match="152 discrepancies") as failed:
        call_command("reconcile")
    assert "transfer_unbalanced: 150 (100 listed)" in str(failed.value)
