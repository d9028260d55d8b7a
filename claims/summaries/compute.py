"""The tallies of a set of blocks, computed from the raw rows (nothing is written here).

``refresh`` writes what these return; ``check`` compares it with what was written. Each function
takes block numbers and returns model instances, unsaved, one per tally row.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate

from claims.models import Claim, Payout
from claims.summaries.models import (
    BLOCK,
    BuyerBlockTally,
    BuyerTally,
    CoverageDayTally,
    CoverageTally,
    DayMetric,
    EffectTally,
    ItemSalesTally,
    LossDayTally,
    OpenPolicyTally,
    TallyMetric,
)
from insurance.models import Coverage, Policy, PolicyState, Premium, PremiumKind
from orders.models import Order, OrderLine, OrderState

OPEN_STATES = [PolicyState.PENDING, PolicyState.CLAIMABLE]
# Blocks rebuilt per statement: bounded work per query however many are dirty.
BLOCKS_PER_QUERY = 20


def block_of(field: str) -> ExpressionWrapper:
    """``field // BLOCK`` in SQL (integer division on both PostgreSQL and SQLite)."""
    return ExpressionWrapper(F(field) / Value(BLOCK), output_field=BigIntegerField())


def in_blocks(field: str, blocks: Iterable[int]) -> Q:
    """Rows whose ``field`` falls in one of ``blocks``, as primary-key ranges (index scans)."""
    q = Q(pk__in=[])
    for block in sorted(set(blocks)):
        q |= Q(**{f"{field}__gte": block * BLOCK, f"{field}__lt": (block + 1) * BLOCK})
    return q


def chunks(blocks: Iterable[int], size: int = BLOCKS_PER_QUERY) -> Iterator[list[int]]:
    ordered = sorted(set(blocks))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _covered() -> Exists:
    """The line's campaign item had price protection switched on at some time."""
    return Exists(
        Coverage.objects.filter(campaign_item=OuterRef("campaign_item"), turned_on_at__isnull=False)
    )


# --- policies: one block is 10,000 policy ids ---------------------------------------------------


class _CoverageRows(dict):
    """The coverage tallies being summed, one per (block, coverage, metric, key)."""

    def add(self, block, coverage, seller, metric, key="", n=0, fen=0) -> None:
        tally = self.get((block, coverage, metric, key))
        if tally is None:
            tally = self[(block, coverage, metric, key)] = CoverageTally(
                block=block, coverage_id=coverage, seller_id=seller, metric=metric, key=key
            )
        tally.n += n or 0
        tally.fen += fen or 0


def coverage_tallies(blocks: list[int]) -> list[CoverageTally]:
    """Policies by state (and those with a claim), premiums by kind, claims by state, payouts and
    clawbacks: what the coverage pages sum, per block of policy ids."""
    rows = _CoverageRows()
    _add_policies(rows, blocks)
    _add_premiums(rows, blocks)
    _add_claims(rows, blocks)
    _add_payouts(rows, blocks)
    coverages = {tally.coverage_id for tally in rows.values()}
    campaigns = dict(
        Coverage.objects.filter(pk__in=coverages).values_list("pk", "campaign_item__campaign_id")
    )
    for tally in rows.values():
        tally.campaign_id = campaigns[tally.coverage_id]
    return list(rows.values())


def _add_policies(rows: _CoverageRows, blocks: list[int]) -> None:
    policies = Policy.objects.filter(in_blocks("pk", blocks)).annotate(block=block_of("pk"))
    for row in policies.values("block", "coverage_id", "seller_id", "state").annotate(
        n=Count("pk"), fen=Sum("insured_fen")
    ):
        rows.add(
            row["block"], row["coverage_id"], row["seller_id"],
            TallyMetric.POLICY, row["state"], row["n"], row["fen"],
        )  # fmt: skip
    claimed = policies.filter(Exists(Claim.objects.filter(policy=OuterRef("pk"))))
    for row in claimed.values("block", "coverage_id", "seller_id").annotate(n=Count("pk")):
        rows.add(row["block"], row["coverage_id"], row["seller_id"], TallyMetric.CLAIMED, n=row["n"])


def _add_premiums(rows: _CoverageRows, blocks: list[int]) -> None:
    premiums = Premium.objects.filter(in_blocks("policy_id", blocks)).annotate(block=block_of("policy_id"))
    for row in premiums.values("block", "policy__coverage_id", "policy__seller_id", "kind").annotate(
        n=Count("pk"), fen=Sum("amount_fen")
    ):
        rows.add(
            row["block"], row["policy__coverage_id"], row["policy__seller_id"],
            TallyMetric.PREMIUM, row["kind"], row["n"], row["fen"],
        )  # fmt: skip


def _add_claims(rows: _CoverageRows, blocks: list[int]) -> None:
    claims = Claim.objects.filter(in_blocks("policy_id", blocks)).annotate(block=block_of("policy_id"))
    for row in claims.values("block", "policy__coverage_id", "policy__seller_id", "state").annotate(
        n=Count("pk")
    ):
        rows.add(
            row["block"], row["policy__coverage_id"], row["policy__seller_id"],
            TallyMetric.CLAIM, row["state"], row["n"],
        )  # fmt: skip


def _add_payouts(rows: _CoverageRows, blocks: list[int]) -> None:
    payouts = Payout.objects.filter(in_blocks("claim__policy_id", blocks)).annotate(
        block=block_of("claim__policy_id")
    )
    for row in payouts.values("block", "claim__policy__coverage_id", "claim__policy__seller_id").annotate(
        n=Count("pk"), fen=Sum("amount_fen"), clawed=Sum("clawed_back_fen")
    ):
        coverage, seller = row["claim__policy__coverage_id"], row["claim__policy__seller_id"]
        rows.add(row["block"], coverage, seller, TallyMetric.PAYOUT, n=row["n"], fen=row["fen"])
        rows.add(row["block"], coverage, seller, TallyMetric.CLAWBACK, fen=row["clawed"])


def day_tallies(blocks: list[int]) -> list[CoverageDayTally]:
    rows = []
    claims = Claim.objects.filter(in_blocks("policy_id", blocks)).annotate(
        block=block_of("policy_id"), day=TruncDate("filed_at")
    )
    for row in claims.values("block", "policy__coverage_id", "policy__seller_id", "day").annotate(
        n=Count("pk")
    ):
        rows.append(
            CoverageDayTally(
                block=row["block"],
                coverage_id=row["policy__coverage_id"],
                seller_id=row["policy__seller_id"],
                day=row["day"],
                metric=DayMetric.FILED,
                n=row["n"],
            )
        )
    payouts = Payout.objects.filter(in_blocks("claim__policy_id", blocks)).annotate(
        block=block_of("claim__policy_id"), day=TruncDate("created_at")
    )
    for row in payouts.values(
        "block", "claim__policy__coverage_id", "claim__policy__seller_id", "day"
    ).annotate(n=Count("pk"), fen=Sum("amount_fen")):
        rows.append(
            CoverageDayTally(
                block=row["block"],
                coverage_id=row["claim__policy__coverage_id"],
                seller_id=row["claim__policy__seller_id"],
                day=row["day"],
                metric=DayMetric.PAID,
                n=row["n"],
                fen=row["fen"] or 0,
            )
        )
    return rows


def open_tallies(blocks: list[int]) -> list[OpenPolicyTally]:
    policies = Policy.objects.filter(in_blocks("pk", blocks), state__in=OPEN_STATES).annotate(
        block=block_of("pk")
    )
    return [
        OpenPolicyTally(
            block=row["block"],
            coverage_id=row["coverage_id"],
            seller_id=row["seller_id"],
            insured_fen=row["insured_fen"],
            cap_fen=row["per_claim_cap_fen"] or 0,
            n=row["n"],
        )
        for row in policies.values(
            "block", "coverage_id", "seller_id", "insured_fen", "per_claim_cap_fen"
        ).annotate(n=Count("pk"))
    ]


# The loss report's dimensions, from a policy (claims.reports groups by the same).
LOSS_KEYS = {
    "insurer": "insurer_id",
    "campaign": "coverage__campaign_item__campaign_id",
    "seller": "seller_id",
    "platform": "order_line__order__shop__platform",
}


def loss_tallies(blocks: list[int]) -> list[LossDayTally]:
    rows: dict[tuple, LossDayTally] = {}

    def tally(row: dict) -> LossDayTally:
        key = (row["block"], row["day"], *(row[name] for name in LOSS_KEYS))
        if key not in rows:
            rows[key] = LossDayTally(
                block=row["block"],
                day=row["day"],
                insurer_id=row["insurer"],
                campaign_id=row["campaign"],
                seller_id=row["seller"],
                platform=row["platform"],
            )
        return rows[key]

    def grouped(queryset, policy: str) -> Any:
        keys = {name: F(f"{policy}{path}") for name, path in LOSS_KEYS.items()}
        blocked = queryset.filter(in_blocks(f"{policy}id", blocks))
        return blocked.annotate(block=block_of(f"{policy}id"), day=TruncDate("created_at")).values(
            "block", "day", **keys
        )

    charge, refund = Q(kind=PremiumKind.CHARGE), Q(kind=PremiumKind.REFUND)
    for row in grouped(Premium.objects.all(), "policy__").annotate(
        n=Count("pk", filter=charge),
        charged=Sum("amount_fen", filter=charge),
        refunded=Sum("amount_fen", filter=refund),
    ):
        found = tally(row)
        found.policies += row["n"]
        found.charged_fen += row["charged"] or 0
        found.refunded_fen += row["refunded"] or 0
    for row in grouped(Payout.objects.all(), "claim__policy__").annotate(
        n=Count("pk"), paid=Sum("amount_fen"), clawed=Sum("clawed_back_fen")
    ):
        found = tally(row)
        found.payouts += row["n"]
        found.paid_fen += row["paid"] or 0
        found.clawed_fen += row["clawed"] or 0
    return list(rows.values())


# --- orders: one block is 10,000 order ids ------------------------------------------------------


def item_sales_tallies(blocks: list[int]) -> list[ItemSalesTally]:
    lines = OrderLine.objects.filter(
        in_blocks("order_id", blocks), campaign_item__isnull=False, order__paid_at__isnull=False
    ).annotate(block=block_of("order_id"))
    return [
        ItemSalesTally(
            block=row["block"],
            campaign_item_id=row["campaign_item_id"],
            orders=row["orders"],
            pieces=row["pieces"] or 0,
            paid_fen=row["paid"] or 0,
            refunded_fen=row["refunded"] or 0,
        )
        for row in lines.values("block", "campaign_item_id").annotate(
            orders=Count("order_id", distinct=True),
            pieces=Sum("quantity"),
            paid=Sum("paid_fen"),
            refunded=Sum("refunded_fen"),
        )
    ]


def effect_tallies(blocks: list[int]) -> list[EffectTally]:
    lines = OrderLine.objects.filter(in_blocks("order_id", blocks), campaign_item__isnull=False).annotate(
        block=block_of("order_id"), covered=_covered()
    )
    return [
        EffectTally(
            block=row["block"],
            seller_id=row["campaign_item__campaign__seller_id"],
            covered=row["covered"],
            placed=row["placed"],
            paid=row["paid"],
        )
        for row in lines.values("block", "campaign_item__campaign__seller_id", "covered").annotate(
            placed=Count("order_id", distinct=True),
            paid=Count("order_id", distinct=True, filter=Q(order__paid_at__isnull=False)),
        )
    ]


# --- buyers of a seller -------------------------------------------------------------------------


def buyer_tallies(seller_id: int, buyer_ids: list[int]) -> list[BuyerTally]:
    """The given buyers of one seller, as they stand: a buyer with no succeeded order there has
    no row."""
    succeeded = Order.objects.filter(
        shop__seller_id=seller_id, buyer_id__in=buyer_ids, state=OrderState.SUCCEEDED
    )
    found: dict[int, BuyerTally] = {}
    for buyer, n in succeeded.values("buyer_id").annotate(n=Count("pk")).values_list("buyer_id", "n"):
        found[buyer] = BuyerTally(seller_id=seller_id, buyer_id=buyer, succeeded_orders=n)
    bought = (
        OrderLine.objects.filter(
            campaign_item__campaign__seller_id=seller_id,
            order__buyer_id__in=buyer_ids,
            order__state=OrderState.SUCCEEDED,
        )
        .annotate(covered=_covered())
        .values_list("order__buyer_id", "covered")
        .distinct()
    )
    for buyer, covered in bought:
        tally = found.setdefault(buyer, BuyerTally(seller_id=seller_id, buyer_id=buyer))
        if covered:
            tally.bought_covered = True
        else:
            tally.bought_uncovered = True
    return list(found.values())


def buyer_block_tallies(seller_id: int, blocks: list[int]) -> list[BuyerBlockTally]:
    """Per block of buyer ids, from the seller's ``BuyerTally`` rows."""
    repeat = Q(succeeded_orders__gte=2)
    rows = (
        BuyerTally.objects.filter(in_blocks("buyer_id", blocks), seller_id=seller_id)
        .annotate(block=block_of("buyer_id"))
        .values("block")
        .annotate(
            buyers_covered=Count("pk", filter=Q(bought_covered=True)),
            repeat_covered=Count("pk", filter=Q(bought_covered=True) & repeat),
            buyers_uncovered=Count("pk", filter=Q(bought_uncovered=True)),
            repeat_uncovered=Count("pk", filter=Q(bought_uncovered=True) & repeat),
        )
    )
    return [BuyerBlockTally(seller_id=seller_id, **row) for row in rows]


def buyers_of_orders(order_ids) -> dict[int, set[int]]:
    """Seller → buyers, of the given orders (a queryset of ids or a list)."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = Order.objects.filter(pk__in=order_ids).values_list("shop__seller_id", "buyer_id").distinct()
    for seller, buyer in rows:
        found[seller].add(buyer)
    return found
