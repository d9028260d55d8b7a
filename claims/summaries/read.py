"""What the seller's pages show, read from the tallies.

Each function returns exactly what its raw twin returns (named in its docstring; the tests
compare them on a varied data set), in one or two queries over a few hundred tally rows
whatever the number of orders, policies and claims behind them.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import Sum

from claims.models import ClaimState
from claims.summaries.models import (
    BuyerBlockTally,
    CoverageDayTally,
    CoverageTally,
    DayMetric,
    EffectTally,
    ItemSalesTally,
    OpenPolicyTally,
    TallyMetric,
)
from insurance.models import PremiumKind
from orders.models import Campaign
from shops.models import Seller


def _figures(tallies) -> dict[tuple[str, str], tuple[int, int]]:
    rows = tallies.values("metric", "key").annotate(n=Sum("n"), fen=Sum("fen"))
    return {(row["metric"], row["key"]): (row["n"] or 0, row["fen"] or 0) for row in rows}


class SellerFigures:
    """A seller's policies and claims by state, premiums and payouts, from one query."""

    def __init__(self, seller: Seller) -> None:
        self._figures = _figures(CoverageTally.objects.filter(seller=seller))

    def _by_key(self, metric: str) -> dict[str, int]:
        return {key: n for (m, key), (n, _fen) in self._figures.items() if m == metric and n}

    def _fen(self, metric: str, key: str = "") -> int:
        return self._figures.get((metric, key), (0, 0))[1]

    def _n(self, metric: str, key: str = "") -> int:
        return self._figures.get((metric, key), (0, 0))[0]

    def policy_counts(self) -> dict[str, int]:
        """= insurance.selectors.seller_policy_counts"""
        return self._by_key(TallyMetric.POLICY)

    def claim_counts(self) -> dict[str, int]:
        """= claims.selectors.seller_claim_counts"""
        return self._by_key(TallyMetric.CLAIM)

    def premium_totals(self) -> dict[str, int]:
        """= insurance.selectors.seller_premium_totals"""
        charged = self._fen(TallyMetric.PREMIUM, PremiumKind.CHARGE)
        refunded = self._fen(TallyMetric.PREMIUM, PremiumKind.REFUND)
        return {"charged": charged, "refunded": refunded, "net": charged - refunded}

    def payout_totals(self) -> dict[str, int]:
        """= claims.selectors.seller_payout_totals"""
        paid, clawed = self._fen(TallyMetric.PAYOUT), self._fen(TallyMetric.CLAWBACK)
        return {
            "payouts": self._n(TallyMetric.PAYOUT),
            "paid": paid,
            "clawed_back": clawed,
            "net": paid - clawed,
        }


def seller_claims_per_day(*, seller: Seller, since: date) -> dict[date, dict[str, int]]:
    """= claims.selectors.seller_claims_per_day (days from ``since``, Asia/Shanghai)"""
    days: dict[date, dict[str, int]] = defaultdict(lambda: {"claims": 0, "payouts": 0, "paid_fen": 0})
    rows = (
        CoverageDayTally.objects.filter(seller=seller, day__gte=since)
        .values("day", "metric")
        .annotate(n=Sum("n"), fen=Sum("fen"))
    )
    for row in rows:
        if row["metric"] == DayMetric.FILED:
            days[row["day"]]["claims"] = row["n"]
        else:
            days[row["day"]]["payouts"] = row["n"]
            days[row["day"]]["paid_fen"] = row["fen"]
    return dict(days)


def seller_claim_rates(seller: Seller) -> list[Campaign]:
    """= claims.selectors.seller_claim_rates: campaigns with policies, each with ``policies``,
    ``claimed`` (policies with a claim) and ``paid`` (paid claims), by start."""
    rows = (
        CoverageTally.objects.filter(
            campaign__seller=seller, metric__in=[TallyMetric.POLICY, TallyMetric.CLAIMED, TallyMetric.CLAIM]
        )
        .values("campaign_id", "metric", "key")
        .annotate(n=Sum("n"))
    )
    figures: dict[int, dict[str, int]] = defaultdict(lambda: {"policies": 0, "claimed": 0, "paid": 0})
    for row in rows:
        counts = figures[row["campaign_id"]]
        if row["metric"] == TallyMetric.POLICY:
            counts["policies"] += row["n"]
        elif row["metric"] == TallyMetric.CLAIMED:
            counts["claimed"] += row["n"]
        elif row["key"] == ClaimState.PAID:
            counts["paid"] += row["n"]
    with_policies = [pk for pk, counts in figures.items() if counts["policies"]]
    campaigns = list(Campaign.objects.filter(pk__in=with_policies).order_by("starts_at", "pk"))
    for campaign in campaigns:
        for name, value in figures[campaign.pk].items():
            setattr(campaign, name, value)
    return campaigns


def coverage_effect(seller: Seller) -> dict[str, dict[str, int]]:
    """= insurance.selectors.coverage_effect"""
    empty = {"placed": 0, "paid": 0, "buyers": 0, "repeat": 0}
    result = {"covered": dict(empty), "uncovered": dict(empty)}
    orders = (
        EffectTally.objects.filter(seller=seller)
        .values("covered")
        .annotate(placed=Sum("placed"), paid=Sum("paid"))
    )
    for row in orders:
        group = result["covered" if row["covered"] else "uncovered"]
        group["placed"], group["paid"] = row["placed"], row["paid"]
    buyers = BuyerBlockTally.objects.filter(seller=seller).aggregate(
        buyers_covered=Sum("buyers_covered"),
        repeat_covered=Sum("repeat_covered"),
        buyers_uncovered=Sum("buyers_uncovered"),
        repeat_uncovered=Sum("repeat_uncovered"),
    )
    for name in ("covered", "uncovered"):
        result[name]["buyers"] = buyers[f"buyers_{name}"] or 0
        result[name]["repeat"] = buyers[f"repeat_{name}"] or 0
    for group in result.values():
        group["conversion_bp"] = group["paid"] * 10_000 // group["placed"] if group["placed"] else 0
        group["repeat_bp"] = group["repeat"] * 10_000 // group["buyers"] if group["buyers"] else 0
    return result


def _open(seller: Seller):
    # Campaigns excluded from claims pay nothing; the flag and the product's cap are read as they are now.
    return OpenPolicyTally.objects.filter(seller=seller).exclude(
        coverage__campaign_item__campaign__excluded_from_claims=True
    )


def seller_exposure(*, seller: Seller, drop_bp: int) -> dict[str, int]:
    """= insurance.selectors.seller_exposure: what the seller's open policies would pay if every
    price fell by ``drop_bp`` (万分之), Σ min(insured × drop, cap) rounded down per policy."""
    found = {"policies": 0, "insured_fen": 0, "exposure_fen": 0}
    for row in _open(seller).values("insured_fen", "cap_fen").annotate(n=Sum("n")):
        per_policy = row["insured_fen"] * drop_bp // 10_000
        capped = min(per_policy, row["cap_fen"]) if row["cap_fen"] else per_policy
        found["policies"] += row["n"]
        found["insured_fen"] += row["n"] * row["insured_fen"]
        found["exposure_fen"] += row["n"] * capped
    return found


def open_policies_by_spec(seller: Seller) -> dict[tuple[int, str], dict[str, int]]:
    """= insurance.selectors.open_policies_by_spec (the insured line's SKU is its campaign
    item's SKU)."""
    product = "coverage__campaign_item__sku__listing__product_id"
    specs = "coverage__campaign_item__sku__specs_key"
    rows = _open(seller).values(product, specs, "insured_fen").annotate(n=Sum("n"))
    found: dict[tuple[int, str], dict[str, int]] = {}
    for row in rows:
        spot = found.setdefault((row[product], row[specs]), {"policies": 0, "insured_fen": 0})
        spot["policies"] += row["n"]
        spot["insured_fen"] += row["n"] * row["insured_fen"]
    return found


def campaign_item_sales(item_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """= orders.selectors.campaign_item_sales"""
    rows = (
        ItemSalesTally.objects.filter(campaign_item_id__in=list(item_ids))
        .values("campaign_item_id")
        .annotate(
            orders=Sum("orders"), pieces=Sum("pieces"), paid=Sum("paid_fen"), refunded=Sum("refunded_fen")
        )
    )
    return {
        row["campaign_item_id"]: {
            "orders": row["orders"],
            "pieces": row["pieces"],
            "sales_fen": row["paid"] - row["refunded"],
        }
        for row in rows
    }


def premiums_by_item(item_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """= insurance.selectors.premiums_by_item"""
    rows = (
        CoverageTally.objects.filter(
            coverage__campaign_item_id__in=list(item_ids),
            metric__in=[TallyMetric.POLICY, TallyMetric.PREMIUM],
        )
        .values("coverage__campaign_item_id", "metric", "key")
        .annotate(n=Sum("n"), fen=Sum("fen"))
    )
    found: dict[int, dict[str, int]] = {}
    for row in rows:
        item = found.setdefault(row["coverage__campaign_item_id"], {"policies": 0, "premium_fen": 0})
        if row["metric"] == TallyMetric.POLICY:
            item["policies"] += row["n"]
        elif row["key"] == PremiumKind.CHARGE:
            item["premium_fen"] += row["fen"]
        else:
            item["premium_fen"] -= row["fen"]
    return {pk: figures for pk, figures in found.items() if figures["policies"]}
