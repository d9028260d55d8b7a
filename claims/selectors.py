"""Reads of claims and payouts that several callers share."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from claims.drop_writes import compensation_expression
from claims.models import ACTIVE_STATES, IN_FLIGHT_STATES, Claim, ClaimState, Payout, PriceDrop
from insurance.models import Policy, PolicyState
from insurance.selectors import POLICY_INSURER, fenced, insurers_of
from orders.models import Campaign, Order, OrderLine, OrderState
from shops.models import Seller, Shop, Sku

# From a claim, a payout, to the insurer that pays it.
CLAIM_INSURER = f"policy__{POLICY_INSURER}"
PAYOUT_INSURER = f"claim__{CLAIM_INSURER}"
_CLAIM_RELATED = (
    "policy__order_line__order",
    "policy__order_line__sku__listing",
    "buyer",
    "price_record__shop",
)


def claims_visible_to(user: AbstractBaseUser) -> QuerySet[Claim]:
    """A buyer's own claims; staff also see the claims their insurers underwrite (a superuser,
    every claim)."""
    if user.is_active and user.is_superuser:
        return Claim.objects.select_related(*_CLAIM_RELATED)
    visible = Q(buyer=user) | Q(**{f"{CLAIM_INSURER}__in": insurers_of(user).values("pk")})
    return Claim.objects.filter(visible).select_related(*_CLAIM_RELATED)


def claims_of_insurers(user: AbstractBaseUser) -> QuerySet[Claim]:
    """The claims ``user`` may review as insurer staff (see ``insurers_of``)."""
    return fenced(Claim.objects.all(), user=user, insurer_path=CLAIM_INSURER)


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
        .select_related("payout", "price_record__shop")
        .order_by("-filed_at", "-pk")
    )
    found: dict[int, list[Claim]] = defaultdict(list)
    for claim in claims:
        found[claim.policy_id].append(claim)
    return found


# The newest candidates offered per insured line: the page costs the same however many unpaid
# orders the buyer keeps (any other evidence order number can still be typed in).
EVIDENCE_CANDIDATES_SHOWN = 10
# Evidence orders are placed inside a 15-day window: the buyer's newest unpaid or closed orders
# hold them.
EVIDENCE_ORDERS_SCANNED = 200


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
    # Start from the buyer's newest unpaid or closed orders (index order_buyer_newest), not from
    # every sale of the product: the page costs the same however well the product sells and
    # however many orders the buyer has.
    own_orders = Order.objects.filter(buyer=buyer, state__in=[OrderState.CREATED, OrderState.CLOSED])
    recent = own_orders.order_by("-created_at", "-id").values("pk")[:EVIDENCE_ORDERS_SCANNED]
    used = Claim.objects.filter(state__in=ACTIVE_STATES, evidence_order_id=OuterRef("order_id"))
    rows = (
        OrderLine.objects.filter(order_id__in=recent, sku__listing__product_id__in=list(by_product))
        .exclude(Exists(used))
        .select_related("order__shop", "sku__listing")
        .order_by("-order__created_at", "-order_id", "-pk")
    )[: EVIDENCE_CANDIDATES_SHOWN * len(lines)]
    found: dict[int, list[OrderLine]] = defaultdict(list)
    for row in rows:
        for line in by_product[row.sku.listing.product_id]:
            if row.order_id == line.order_id:
                continue
            found[line.pk].append(row)
    return found


def evidence_claims(*, buyer: AbstractBaseUser, numbers: Iterable[str]) -> dict[str, Claim]:
    """For each of these order numbers the buyer cited as evidence, the latest such claim.

    Matched by number, not by ``evidence_order``: a rejected claim is never linked to its
    evidence order, yet that order was placed for it and needs no payment either.
    """
    claims = (
        Claim.objects.filter(buyer=buyer, evidence_order_number__in=list(numbers))
        .select_related("policy__order_line__order")
        .order_by("filed_at", "pk")
    )
    return {claim.evidence_order_number: claim for claim in claims}


def evidence_order_numbers(buyer: AbstractBaseUser) -> QuerySet:
    """Every order number the buyer cited as evidence (a subquery)."""
    return Claim.objects.filter(buyer=buyer).values("evidence_order_number")


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


# --- price drops (主动保价) ---------------------------------------------------------------------


def _active_claim(policy_ref: str = "policy") -> Subquery:
    return Subquery(
        Claim.objects.filter(policy=OuterRef(policy_ref), state__in=ACTIVE_STATES).values("number")[:1]
    )


def price_drops_for_buyer(user: AbstractBaseUser) -> QuerySet[PriceDrop]:
    """The buyer's detected drops, newest first, each with the number of the claim in flight or
    paid on its policy (``claim_number``, None while unclaimed)."""
    return (
        PriceDrop.objects.filter(policy__buyer=user)
        .select_related("record__shop", "policy__order_line__order", "policy__order_line__sku__listing")
        .annotate(claim_number=_active_claim())
        .order_by("-improved_at", "-pk")
    )


def price_drops_for_lines(line_ids: Iterable[int]) -> dict[int, PriceDrop]:
    """The detected drop of each insured line that has one (for the order pages)."""
    drops = (
        PriceDrop.objects.filter(policy__order_line_id__in=list(line_ids))
        .select_related("record__shop", "policy")
        .annotate(claim_number=_active_claim())
    )
    return {drop.policy.order_line_id: drop for drop in drops}


def seller_unclaimed_drops(seller: Seller) -> list[dict]:
    """Per campaign of the seller: drops detected on policies still claimable with no claim in
    flight or paid — the liability that has appeared but is not claimed yet."""
    in_flight = Claim.objects.filter(policy=OuterRef("policy"), state__in=ACTIVE_STATES)
    rows = (
        PriceDrop.objects.filter(policy__seller=seller, policy__state=PolicyState.CLAIMABLE)
        .exclude(Exists(in_flight))
        .values(
            campaign_id=F("policy__coverage__campaign_item__campaign_id"),
            campaign_name=F("policy__coverage__campaign_item__campaign__name"),
        )
        .annotate(drops=Count("pk"), amount_fen=Sum("amount_fen"))
        .order_by("campaign_id")
    )
    return list(rows)


def price_change_liability(
    *, prices: Iterable[tuple[Sku, int]], now: datetime | None = None
) -> dict[str, int]:
    """What new public prices would trigger, before the seller saves them (此次改价将触发 N 份保单
    理赔,预计赔付 ¥X): ``prices`` are (SKU, new unit price) — one for a price change, one per SKU
    a shop coupon reaches.

    Counted: policies of the same product and spec whose window has not closed (a price still in
    effect when a window opens counts in it), not in a campaign excluded from claims, with no
    claim in flight or paid, that this price would give a drop or a higher drop than the one
    detected. ``payout_fen`` is what those policies would be paid; ``added_fen`` what that adds
    to the drops already detected.
    """
    now = now or timezone.now()
    totals = {"policies": 0, "payout_fen": 0, "added_fen": 0}
    for sku, price in prices:
        product_id = sku.listing.product_id
        difference = ExpressionWrapper(
            F("order_line__paid_fen") - Value(price) * F("order_line__quantity"),
            output_field=BigIntegerField(),
        )
        rows = (
            Policy.objects.filter(
                state__in=[PolicyState.PENDING, PolicyState.CLAIMABLE],
                window_ends_at__gt=now,
                coverage__campaign_item__campaign__excluded_from_claims=False,
                order_line__sku__listing__product_id=product_id,
                order_line__sku__specs_key=sku.specs_key,
                order_line__paid_fen__gt=0,
            )
            .exclude(Exists(Claim.objects.filter(policy=OuterRef("pk"), state__in=ACTIVE_STATES)))
            .annotate(diff=difference)
            .annotate(amount=compensation_expression(difference=F("diff")))
            .annotate(current=Coalesce(F("price_drop__amount_fen"), Value(0)))
            .filter(diff__gt=0, amount__gt=F("current"))
            .aggregate(
                n=Count("pk"),
                payout=Coalesce(Sum("amount"), Value(0)),
                added=Coalesce(Sum(F("amount") - F("current")), Value(0)),
            )
        )
        totals["policies"] += rows["n"]
        totals["payout_fen"] += rows["payout"]
        totals["added_fen"] += rows["added"]
    return totals


def coupon_liability(*, shop: Shop, amount_fen: int, min_spend_fen: int = 0) -> dict[str, int]:
    """What a shop-wide coupon would trigger: each of the shop's SKUs at its list price less the
    coupon, where one unit reaches the threshold."""
    skus = Sku.objects.filter(listing__shop=shop).select_related("listing")
    prices = [
        (sku, sku.price_fen - amount_fen)
        for sku in skus
        if sku.price_fen >= min_spend_fen and amount_fen < sku.price_fen
    ]
    return price_change_liability(prices=prices)
