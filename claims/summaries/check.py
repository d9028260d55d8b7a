"""Reconciliation of the tallies: each one recomputed from the raw rows and compared.

Blocks and buyers that changed since the rollup's bookmark are left out (the next run rebuilds
them; until then they may lag by design); every other tally must equal its raw figures exactly,
so a tally edited by hand, or a change the rollup missed, is reported.
"""

from collections.abc import Callable, Iterable

from django.db import models

from alipay.selectors import Discrepancy
from claims.summaries import compute
from claims.summaries.models import (
    BuyerBlockTally,
    BuyerTally,
    CoverageDayTally,
    CoverageTally,
    EffectTally,
    ItemSalesTally,
    LossDayTally,
    OpenPolicyTally,
    SummaryState,
)
from claims.summaries.refresh import STATE, Dirty, dirty_all, dirty_since

LIMIT = 100  # discrepancies listed per tally

# Per tally: the fields that name a row, and the figures it holds.
SHAPES: dict[type[models.Model], tuple[tuple[str, ...], tuple[str, ...]]] = {
    CoverageTally: (("block", "coverage_id", "metric", "key"), ("n", "fen", "seller_id", "campaign_id")),
    CoverageDayTally: (("block", "coverage_id", "day", "metric"), ("n", "fen", "seller_id")),
    OpenPolicyTally: (("block", "coverage_id", "insured_fen", "cap_fen"), ("n", "seller_id")),
    LossDayTally: (
        ("block", "day", "insurer_id", "campaign_id", "seller_id", "platform"),
        ("policies", "charged_fen", "refunded_fen", "payouts", "paid_fen", "clawed_fen"),
    ),
    ItemSalesTally: (("block", "campaign_item_id"), ("orders", "pieces", "paid_fen", "refunded_fen")),
    EffectTally: (("block", "seller_id", "covered"), ("placed", "paid")),
    BuyerTally: (
        ("seller_id", "buyer_id"),
        ("succeeded_orders", "bought_covered", "bought_uncovered"),
    ),
    BuyerBlockTally: (
        ("seller_id", "block"),
        ("buyers_covered", "repeat_covered", "buyers_uncovered", "repeat_uncovered"),
    ),
}


def _compare(model: type[models.Model], stored: Iterable, computed: Iterable) -> list[Discrepancy]:
    names, figures = SHAPES[model]

    def index(rows: Iterable) -> dict[tuple, tuple]:
        return {tuple(getattr(r, n) for n in names): tuple(getattr(r, f) for f in figures) for r in rows}

    have, want = index(stored), index(computed)
    found = []
    for key in sorted(have.keys() | want.keys(), key=str):
        if have.get(key) != want.get(key):
            found.append(
                Discrepancy(
                    "summary_mismatch",
                    f"{model._meta.model_name} {dict(zip(names, key, strict=True))}: "
                    f"stored {have.get(key)} ≠ raw rows {want.get(key)} ({', '.join(figures)})",
                )
            )
    return found[:LIMIT]


def _blocks_check(
    computers: list[tuple[type[models.Model], Callable[[list[int]], list]]], blocks: set[int], skip: set[int]
) -> list[Discrepancy]:
    found = []
    for model, computer in computers:
        stored_blocks = set(model.objects.values_list("block", flat=True).distinct())
        mismatches: list[Discrepancy] = []
        for chunk in compute.chunks((blocks | stored_blocks) - skip):
            mismatches += _compare(model, model.objects.filter(block__in=chunk), computer(chunk))
        found += mismatches[:LIMIT]
    return found


def _buyers_check(recent: Dirty, everything: Dirty) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    stored: dict[int, set[int]] = {}
    for seller, buyer in BuyerTally.objects.values_list("seller_id", "buyer_id"):
        stored.setdefault(seller, set()).add(buyer)
    for seller in everything.buyers.keys() | stored.keys():
        skipped = recent.buyers.get(seller, set())
        buyers = sorted((everything.buyers.get(seller, set()) | stored.get(seller, set())) - skipped)
        for start in range(0, len(buyers), 1_000):
            chunk = buyers[start : start + 1_000]
            found += _compare(
                BuyerTally,
                BuyerTally.objects.filter(seller_id=seller, buyer_id__in=chunk),
                compute.buyer_tallies(seller, chunk),
            )
        blocks = {b // compute.BLOCK for b in buyers}
        blocks |= set(BuyerBlockTally.objects.filter(seller_id=seller).values_list("block", flat=True))
        blocks -= {b // compute.BLOCK for b in skipped}
        for chunk in compute.chunks(blocks):
            found += _compare(
                BuyerBlockTally,
                BuyerBlockTally.objects.filter(seller_id=seller, block__in=chunk),
                compute.buyer_block_tallies(seller, chunk),
            )
    return found[:LIMIT]


def summary_discrepancies() -> list[Discrepancy]:
    """Every tally that differs from its raw rows, except those changed since the bookmark."""
    state = SummaryState.objects.filter(name=STATE).first()
    if state is None or state.safe_until is None:
        return []  # never built: the pages say so, and the first rollup builds everything
    recent, everything = dirty_since(state.safe_until), dirty_all()
    found = _blocks_check(
        [
            (CoverageTally, compute.coverage_tallies),
            (CoverageDayTally, compute.day_tallies),
            (OpenPolicyTally, compute.open_tallies),
            (LossDayTally, compute.loss_tallies),
        ],
        everything.policy_blocks,
        recent.policy_blocks,
    )
    found += _blocks_check(
        [(ItemSalesTally, compute.item_sales_tallies), (EffectTally, compute.effect_tallies)],
        everything.order_blocks,
        recent.order_blocks,
    )
    return found + _buyers_check(recent, everything)
