"""Reconciliation: every ledger invariant, checked from the tables themselves.

Alipay checks its own books (double entry sums to zero, balances equal their rows, no negative
balance where none is allowed); this module adds what ties them to claims: every paid claim has
exactly one payout of its compensation, from its insurer to its insured buyer, and every payout
belongs to a paid claim. Each kind of discrepancy is counted in full; up to
``LISTED_PER_KIND`` of each are described.
"""

from django.db import transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from alipay.models import AccountKind, Entry, Transfer, TransferKind
from alipay.selectors import Discrepancy, Findings, ledger_findings
from claims.models import Claim, ClaimState, Payout, ReconciliationRun
from claims.summaries.check import summary_discrepancies


def _with_reference(payouts):
    """Payouts annotated with the ``reference`` their transfers carry: ``claim:<id>``."""
    return payouts.annotate(expected=Concat(Value("claim:"), Cast("claim_id", output_field=CharField())))


def _payout_rows(found: Findings) -> None:
    found.add(
        "paid_claim_without_payout",
        Claim.objects.filter(state=ClaimState.PAID, payout__isnull=True).values_list("number", flat=True),
        lambda number: f"claim {number} is paid but has no payout",
    )
    found.add(
        "payout_without_paid_claim",
        Payout.objects.exclude(claim__state=ClaimState.PAID).values_list("claim__number", "claim__state"),
        lambda row: f"claim {row[0]} has a payout but is {row[1]}",
    )
    found.add(
        "payout_amount_mismatch",
        Payout.objects.exclude(amount_fen=F("claim__compensation_fen")).values_list(
            "claim__number", "amount_fen", "claim__compensation_fen"
        ),
        lambda row: f"claim {row[0]}: payout {row[1]} ≠ compensation {row[2]}",
    )


def _payout_transfers(found: Findings) -> None:
    credited = Sum("transfer__entries__amount_fen", filter=Q(transfer__entries__amount_fen__gt=0))
    found.add(
        "payout_transfer_mismatch",
        _with_reference(Payout.objects)
        .annotate(credited=credited)
        .filter(
            ~Q(transfer__kind=TransferKind.PAYOUT)
            | ~Q(transfer__reference=F("expected"))
            | ~Q(credited=F("amount_fen"))
        )
        .values_list("claim__number", flat=True),
        lambda number: f"claim {number}: its payout's transfer is not a payout of the same amount",
    )
    # Right amount, wrong hands: every credit must reach the insured buyer's balance and every
    # debit come from the insurer of the claim's policy.
    legs = Entry.objects.filter(transfer=OuterRef("transfer_id"))
    wrong_credit = legs.filter(amount_fen__gt=0).exclude(
        account__kind=AccountKind.BUYER, account__user_id=OuterRef("claim__policy__buyer_id")
    )
    wrong_debit = legs.filter(amount_fen__lt=0).exclude(account__code=OuterRef("insurer_account"))
    found.add(
        "payout_wrong_account",
        Payout.objects.annotate(insurer_account=Concat(Value("insurer:"), "claim__policy__insurer__code"))
        .filter(Exists(wrong_credit) | Exists(wrong_debit))
        .values_list("claim__number", flat=True),
        lambda number: f"claim {number}: its payout did not go from its insurer to its insured buyer",
    )
    found.add(
        "claim_paid_twice",
        Transfer.objects.filter(kind=TransferKind.PAYOUT)
        .values("reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("reference", "n"),
        lambda row: f"{row[0]} has {row[1]} payout transfers",
    )


def _clawbacks(found: Findings) -> None:
    clawed = Transfer.objects.filter(kind=TransferKind.CLAWBACK, reference=OuterRef("expected")).values(
        "reference"
    )
    clawed = clawed.annotate(total=Sum("entries__amount_fen", filter=Q(entries__amount_fen__gt=0))).values(
        "total"
    )
    found.add(
        "clawback_mismatch",
        _with_reference(Payout.objects)
        .annotate(clawed=Coalesce(Subquery(clawed), 0))
        .exclude(clawed_back_fen=F("clawed"))
        .values_list("claim__number", "clawed_back_fen", "clawed"),
        lambda row: f"claim {row[0]}: clawed back {row[1]} but the ledger shows {row[2]}",
    )


def findings() -> Findings:
    found = ledger_findings()
    _payout_rows(found)
    _payout_transfers(found)
    _clawbacks(found)
    for summary in summary_discrepancies():  # the pages' tallies against the raw rows
        found.add_one(summary.code, summary.detail)
    return found


def discrepancies() -> list[Discrepancy]:
    return findings().listed


def reconciliation_run(*, trigger: str) -> ReconciliationRun:
    """Check everything and keep the result where staff see it (the admin)."""
    started = timezone.now()
    found = findings()
    with transaction.atomic():
        return ReconciliationRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            trigger=trigger,
            ok=not found.total,
            discrepancies=[{"code": d.code, "detail": d.detail} for d in found.listed],
            counts=found.counts,
        )
