"""Reads of coverage and policies that several callers share."""

from collections.abc import Iterable

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
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least

from insurance.models import (
    Coverage,
    InsuranceProduct,
    Insurer,
    Policy,
    PolicyState,
    Premium,
    PremiumKind,
    SellerDecision,
)
from orders.models import CampaignItem, CampaignState, Order, OrderLine, OrderState
from shops.models import Seller

# From a policy to the insurer that underwrote it.
POLICY_INSURER = "insurer"


def insurers_of(user: AbstractBaseUser) -> QuerySet[Insurer]:
    """The insurers whose business ``user`` sees and decides as staff: every insurer for a
    superuser, the insurers they belong to for other active staff, none for anybody else.

    The one rule behind the admin's querysets and reports, the API's staff reads and the review
    services: an officer of insurer B never sees, decides or pays out insurer A's claims.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Insurer.objects.none()
    if user.is_superuser:
        return Insurer.objects.all()
    return Insurer.objects.filter(staff=user)


def fenced(queryset: QuerySet, *, user: AbstractBaseUser, insurer_path: str) -> QuerySet:
    """``queryset`` cut to the rows of the insurers ``user`` works for; ``insurer_path`` is the
    lookup from a row to its insurer (``"policy__coverage__insurer"``, or ``"pk"`` for insurers)."""
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{insurer_path}__in": insurers_of(user).values("pk")})


def insurer_ids_of(user: AbstractBaseUser) -> list[int] | None:
    """The ids of ``insurers_of(user)``, or None for a superuser (every insurer, present and future)."""
    if user.is_active and user.is_superuser:
        return None
    return list(insurers_of(user).values_list("pk", flat=True))


def campaign_items_for_seller(seller: Seller) -> QuerySet[CampaignItem]:
    return (
        CampaignItem.objects.filter(campaign__seller=seller)
        .select_related(
            "campaign", "sku__listing__shop", "sku__listing__product", "coverage__product__insurer"
        )
        .prefetch_related("coverage__product__rates")
        .order_by("pk")
    )


def storefront_campaign_items() -> QuerySet[CampaignItem]:
    """What buyers can see before buying: items of scheduled and live campaigns, and whether
    each is covered (赠保价险)."""
    return (
        CampaignItem.objects.filter(campaign__state__in=[CampaignState.SCHEDULED, CampaignState.LIVE])
        .select_related("campaign", "sku__listing__shop", "coverage__product")
        .order_by("campaign__ends_at", "pk")
    )


def policies_for_seller(seller: Seller) -> QuerySet[Policy]:
    return Policy.objects.filter(seller=seller).select_related(
        "buyer", "order_line__order", "order_line__sku__listing", "coverage__campaign_item__campaign"
    )


# --- web: the seller dashboard and the buyer's 保险服务 ---------------------------------------

# Policies that may still pay out: the liability a seller carries today.
OPEN_POLICY_STATES = [PolicyState.PENDING, PolicyState.CLAIMABLE]


def products_offered_to(seller: Seller) -> list[tuple[InsuranceProduct, bool | None]]:
    """The products on sale, each with the insurer's word on ``seller`` (None: no word), default
    products first."""
    decisions = dict(SellerDecision.objects.filter(seller=seller).values_list("product_id", "accepted"))
    products = (
        InsuranceProduct.objects.filter(offered=True)
        .select_related("insurer")
        .prefetch_related("rates")
        .order_by("-is_default", "insurer_id", "pk")
    )
    return [(product, decisions.get(product.pk)) for product in products]


def products_for_item(
    *, seller: Seller, campaign_item: CampaignItem, offers: list | None = None
) -> list[InsuranceProduct]:
    """What the seller may pick for one campaign item, the preselected default first. Pass
    ``offers`` (``products_offered_to(seller)``) when listing many items."""
    listing = campaign_item.sku.listing
    scope = {"platform": listing.shop.platform, "category": listing.product.category}
    return [
        product
        for product, accepted in (products_offered_to(seller) if offers is None else offers)
        if product.offer_refusal(accepted=accepted, **scope) is None
    ]


def seller_exposure(*, seller: Seller, drop_bp: int) -> dict[str, int]:
    """What the seller's open policies would pay if every price fell by ``drop_bp`` (万分之).

    Σ over pending and claimable policies of min(insured × drop, per-claim cap), rounded down to
    the fen per policy; campaigns excluded from claims pay nothing and are left out.
    """
    per_policy = ExpressionWrapper(F("insured_fen") * drop_bp / 10_000, output_field=BigIntegerField())
    capped = Least(per_policy, Coalesce(F("per_claim_cap_fen"), per_policy))
    totals = (
        Policy.objects.filter(seller=seller, state__in=OPEN_POLICY_STATES)
        .exclude(coverage__campaign_item__campaign__excluded_from_claims=True)
        .aggregate(
            policies=Count("pk"),
            insured=Coalesce(Sum("insured_fen"), Value(0)),
            exposure=Coalesce(Sum(capped), Value(0)),
        )
    )
    return {
        "policies": totals["policies"],
        "insured_fen": totals["insured"],
        "exposure_fen": totals["exposure"],
    }


def seller_premium_totals(seller: Seller) -> dict[str, int]:
    """Premiums charged, refunded on cancelled policies, and the net the seller spent."""
    totals = Premium.objects.filter(policy__seller=seller).aggregate(
        charged=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.CHARGE)), Value(0)),
        refunded=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.REFUND)), Value(0)),
    )
    return {**totals, "net": totals["charged"] - totals["refunded"]}


def seller_policy_counts(seller: Seller) -> dict[str, int]:
    rows = Policy.objects.filter(seller=seller).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def premiums_by_item(item_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per campaign item: policies issued and the net premium charged so far."""
    rows = (
        Policy.objects.filter(coverage__campaign_item_id__in=list(item_ids))
        .values("coverage__campaign_item_id")
        .annotate(
            policies=Count("pk", distinct=True),
            charged=Coalesce(
                Sum("premiums__amount_fen", filter=Q(premiums__kind=PremiumKind.CHARGE)), Value(0)
            ),
            refunded=Coalesce(
                Sum("premiums__amount_fen", filter=Q(premiums__kind=PremiumKind.REFUND)), Value(0)
            ),
        )
    )
    return {
        row["coverage__campaign_item_id"]: {
            "policies": row["policies"],
            "premium_fen": row["charged"] - row["refunded"],
        }
        for row in rows
    }


def policies_for_lines(line_ids: Iterable[int]) -> dict[int, Policy]:
    policies = Policy.objects.filter(order_line_id__in=list(line_ids)).select_related(
        "insurer", "coverage__product__insurer", "coverage__campaign_item__campaign"
    )
    return {policy.order_line_id: policy for policy in policies}


def coverage_effect(seller: Seller) -> dict[str, dict[str, int]]:
    """Covered against uncovered campaign items of one seller, from orders alone.

    An item counts as covered when the seller ever switched price protection on for it.
    - conversion: orders placed through Juhuasuan that were then paid (下单支付转化率); the
      platform records no page views, so this is checkout-to-payment, not visit-to-order.
    - repeat purchase: of the buyers whose trade in such an item succeeded, those with at least
      two succeeded orders in any of the seller's shops (复购率).
    """
    covered = Exists(
        Coverage.objects.filter(campaign_item=OuterRef("campaign_item"), turned_on_at__isnull=False)
    )
    repeat_buyers = (
        Order.objects.filter(shop__seller=seller, state=OrderState.SUCCEEDED)
        .values("buyer")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .values("buyer")
    )
    rows = (
        OrderLine.objects.filter(campaign_item__campaign__seller=seller)
        .annotate(covered=covered)
        .values("covered")
        .annotate(
            placed=Count("order_id", distinct=True),
            paid=Count("order_id", distinct=True, filter=Q(order__paid_at__isnull=False)),
            buyers=Count("order__buyer_id", distinct=True, filter=Q(order__state=OrderState.SUCCEEDED)),
            repeat=Count(
                "order__buyer_id",
                distinct=True,
                filter=Q(order__state=OrderState.SUCCEEDED, order__buyer__in=repeat_buyers),
            ),
        )
    )
    empty = {"placed": 0, "paid": 0, "buyers": 0, "repeat": 0}
    result = {"covered": dict(empty), "uncovered": dict(empty)}
    for row in rows:
        group = result["covered" if row["covered"] else "uncovered"]
        for key in empty:
            group[key] += row[key]
    for group in result.values():
        group["conversion_bp"] = group["paid"] * 10_000 // group["placed"] if group["placed"] else 0
        group["repeat_bp"] = group["repeat"] * 10_000 // group["buyers"] if group["buyers"] else 0
    return result


def open_policies_by_spec(seller: Seller) -> dict[tuple[int, str], dict[str, int]]:
    """The seller's policies that a price drop could still pay out on, per (catalog product,
    specs): a lower price for the same product and specs in any shop is a covered drop."""
    rows = (
        Policy.objects.filter(seller=seller, state__in=OPEN_POLICY_STATES)
        .exclude(coverage__campaign_item__campaign__excluded_from_claims=True)
        .values("order_line__sku__listing__product_id", "order_line__sku__specs_key")
        .annotate(policies=Count("pk"), insured=Sum("insured_fen"))
    )
    return {
        (row["order_line__sku__listing__product_id"], row["order_line__sku__specs_key"]): {
            "policies": row["policies"],
            "insured_fen": row["insured"] or 0,
        }
        for row in rows
    }
