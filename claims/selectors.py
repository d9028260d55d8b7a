"""Reads of claims and payouts that several callers share."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from claims.models import ACTIVE_STATES, IN_FLIGHT_STATES, Claim, ClaimState, Payout
from orders.models import Campaign, Order, OrderLine, OrderState
from shops.models import Seller

_CLAIM_RELATED = ("policy__order_line__order", "policy__order_line__sku__listing", "buyer")


def claims_visible_to(user: AbstractBaseUser) -> QuerySet[Claim]:
    """A buyer's own claims; staff also see the claims their insurers underwrite (a superuser,
    every claim)."""
    if user.is_superuser:
        return Claim.objects.select_related(*_CLAIM_RELATED)
    visible = Q(buyer=user)
    if user.is_staff:
        visible |= Q(policy__coverage__insurer__in=user.insurers.all())
    return Claim.objects.filter(visible).select_related(*_CLAIM_RELATED)


def claims_for_seller(seller: Seller) -> QuerySet[Claim]:
    return Claim.objects.filter(policy__seller=seller).select_related(*_CLAIM_RELATED)


def payouts_for_seller(seller: Seller) -> QuerySet[Payout]:
    return Payout.objects.filter(claim__policy__seller=seller).select_related(
        "claim__policy__order_line__order", "claim__buyer"
    )


# --- web: the buyer's 保险服务 panel and the seller dashboard ---------------------------------


def claims_for_policies(policy_ids: Iterable[int]) -> dict[int, list[Claim]]:
    """Each policy's claims, newest first, with their payouts."""
    claims = (
        Claim.objects.filter(policy_id__in=list(policy_ids))
        .select_related("payout")
        .order_by("-filed_at", "-pk")
    )
    found: dict[int, list[Claim]] = defaultdict(list)
    for claim in claims:
        found[claim.policy_id].append(claim)
    return found


def evidence_candidates(*, buyer: AbstractBaseUser, lines: Iterable[OrderLine]) -> dict[int, list[OrderLine]]:
    """For each insured line, the buyer's own unpaid or closed order lines of the same product
    (any shop, any platform) that could back a claim, newest first.

    Lines already backing a live claim are left out; each line is annotated with ``mismatches``
    (the codes of the checks it would fail on specs or quantity) so the page can warn early.
    """
    lines = list(lines)
    by_product: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_product[line.sku.listing.product_id].append(line)
    if not by_product:
        return {}
    # Start from the buyer's own orders (indexed by buyer), not from every sale of the product:
    # the page must cost the same however well the product sells.
    own_orders = Order.objects.filter(buyer=buyer, state__in=[OrderState.CREATED, OrderState.CLOSED]).values(
        "pk"
    )
    used = Claim.objects.filter(state__in=ACTIVE_STATES, evidence_order__buyer=buyer).values("evidence_order")
    rows = (
        OrderLine.objects.filter(order_id__in=own_orders, sku__listing__product_id__in=list(by_product))
        .exclude(order_id__in=used)
        .select_related("order__shop", "sku__listing")
        .order_by("-order__created_at", "-pk")
    )
    found: dict[int, list[OrderLine]] = defaultdict(list)
    for row in rows:
        for line in by_product[row.sku.listing.product_id]:
            if row.order_id == line.order_id:
                continue
            found[line.pk].append(row)
    return found


def seller_claim_counts(seller: Seller) -> dict[str, int]:
    rows = Claim.objects.filter(policy__seller=seller).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def seller_payout_totals(seller: Seller) -> dict[str, int]:
    """What the insurer paid the seller's buyers, less what refunds clawed back."""
    totals = Payout.objects.filter(claim__policy__seller=seller).aggregate(
        payouts=Count("pk"),
        paid=Coalesce(Sum("amount_fen"), Value(0)),
        clawed_back=Coalesce(Sum("clawed_back_fen"), Value(0)),
    )
    return {**totals, "net": totals["paid"] - totals["clawed_back"]}


def seller_claims_per_day(*, seller: Seller, since: datetime) -> dict[date, dict[str, int]]:
    """Claims filed and payouts made per day (Asia/Shanghai) since ``since``."""
    days: dict[date, dict[str, int]] = defaultdict(lambda: {"claims": 0, "payouts": 0, "paid_fen": 0})
    filed = (
        Claim.objects.filter(policy__seller=seller, filed_at__gte=since)
        .annotate(day=TruncDate("filed_at"))
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in filed:
        days[row["day"]]["claims"] = row["n"]
    paid = (
        Payout.objects.filter(claim__policy__seller=seller, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"), amount=Sum("amount_fen"))
    )
    for row in paid:
        days[row["day"]]["payouts"] = row["n"]
        days[row["day"]]["paid_fen"] = row["amount"] or 0
    return dict(days)


def seller_claim_rates(seller: Seller) -> QuerySet[Campaign]:
    """Per campaign with policies: policies issued, claims filed on them, and claims paid."""
    return (
        Campaign.objects.filter(seller=seller, items__coverage__policies__isnull=False)
        .annotate(
            policies=Count("items__coverage__policies", distinct=True),
            claimed=Count("items__coverage__policies__claims__policy", distinct=True),
            paid=Count(
                "items__coverage__policies__claims",
                distinct=True,
                filter=Q(items__coverage__policies__claims__state=ClaimState.PAID),
            ),
        )
        .order_by("starts_at", "pk")
    )


def seller_claims_page(seller: Seller, *, state: str | None = None) -> QuerySet[Claim]:
    claims = Claim.objects.filter(policy__seller=seller).select_related(
        "buyer",
        "payout",
        "policy__order_line__order",
        "policy__order_line__sku__listing__shop",
        "policy__coverage__campaign_item__campaign",
    )
    if state:
        claims = claims.filter(state=state)
    return claims.order_by("-filed_at", "-pk")


def policies_with_claim_in_flight() -> QuerySet:
    """Policies whose claim, filed inside the window, is still being decided or paid: the window
    sweep must not expire them (registered with insurance in ClaimsConfig.ready)."""
    return Claim.objects.filter(state__in=IN_FLIGHT_STATES).values("policy_id")
