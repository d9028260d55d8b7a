"""Reconciliation: every ledger invariant, checked from the tables themselves.

Alipay checks its own books (double entry sums to zero, balances equal their rows, no negative
balance where none is allowed); this module adds what ties them to claims: every paid claim has
exactly one payout of its compensation, and every payout belongs to a paid claim.
"""

from django.db import transaction
from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from alipay.models import Transfer, TransferKind
from alipay.selectors import Discrepancy, ledger_discrepancies
from claims.models import Claim, ClaimState, Payout, ReconciliationRun
from claims.summaries.check import summary_discrepancies

LIMIT = 100  # discrepancies listed per kind; the count says how many more


def _listed(code: str, rows, describe) -> list[Discrepancy]:
    return [Discrepancy(code, describe(row)) for row in rows[:LIMIT]]


def payout_discrepancies() -> list[Discrepancy]:
    found = _listed(
        "paid_claim_without_payout",
        Claim.objects.filter(state=ClaimState.PAID, payout__isnull=True).values_list("number", flat=True),
        lambda number: f"claim {number} is paid but has no payout",
    )
    found += _listed(
        "payout_without_paid_claim",
        Payout.objects.exclude(claim__state=ClaimState.PAID).values_list("claim__number", "claim__state"),
        lambda row: f"claim {row[0]} has a payout but is {row[1]}",
    )
    found += _listed(
        "payout_amount_mismatch",
        Payout.objects.exclude(amount_fen=F("claim__compensation_fen")).values_list(
            "claim__number", "amount_fen", "claim__compensation_fen"
        ),
        lambda row: f"claim {row[0]}: payout {row[1]} ≠ compensation {row[2]}",
    )
    credited = Sum("transfer__entries__amount_fen", filter=Q(transfer__entries__amount_fen__gt=0))
    found += _listed(
        "payout_transfer_mismatch",
        Payout.objects.annotate(expected=Concat(Value("claim:"), Cast("claim_id", output_field=CharField())))
        .annotate(credited=credited)
        .filter(
            ~Q(transfer__kind=TransferKind.PAYOUT)
            | ~Q(transfer__reference=F("expected"))
            | ~Q(credited=F("amount_fen"))
        )
        .values_list("claim__number", flat=True),
        lambda number: f"claim {number}: its payout's transfer is not a payout of the same amount",
    )
    clawed = Transfer.objects.filter(kind=TransferKind.CLAWBACK, reference=OuterRef("expected")).values(
        "reference"
    )
    clawed = clawed.annotate(total=Sum("entries__amount_fen", filter=Q(entries__amount_fen__gt=0))).values(
        "total"
    )
    found += _listed(
        "clawback_mismatch",
        Payout.objects.annotate(expected=Concat(Value("claim:"), Cast("claim_id", output_field=CharField())))
        .annotate(clawed=Coalesce(Subquery(clawed), 0))
        .exclude(clawed_back_fen=F("clawed"))
        .values_list("claim__number", "clawed_back_fen", "clawed"),
        lambda row: f"claim {row[0]}: clawed back {row[1]} but the ledger shows {row[2]}",
    )
    found += _listed(
        "claim_paid_twice",
        Transfer.objects.filter(kind=TransferKind.PAYOUT)
        .values("reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("reference", "n"),
        lambda row: f"{row[0]} has {row[1]} payout transfers",
    )
    return found


def discrepancies() -> list[Discrepancy]:
    return ledger_discrepancies() + payout_discrepancies() + summary_discrepancies()


def reconciliation_run(*, trigger: str) -> ReconciliationRun:
    """Check everything and keep the result where staff see it (the admin)."""
    started = timezone.now()
    found = discrepancies()
    with transaction.atomic():
        return ReconciliationRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            trigger=trigger,
            ok=not found,
            discrepancies=[{"code": d.code, "detail": d.detail} for d in found],
        )
