from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet, Sum

from orders.models import Address, Campaign, CampaignState, Order, OrderLine
from shops.models import Seller


def orders_for_buyer(buyer: AbstractBaseUser) -> QuerySet[Order]:
    return Order.objects.filter(buyer=buyer).select_related("shop", "campaign")


def order_by_number(number: str) -> Order | None:
    return Order.objects.filter(number=number).select_related("buyer").first()


# --- web: storefront, buyer portal, seller dashboard -----------------------------------------


def campaigns_on_show() -> QuerySet[Campaign]:
    """Live campaigns, then those about to start: the storefront's Juhuasuan strip."""
    return (
        Campaign.objects.filter(state__in=[CampaignState.LIVE, CampaignState.SCHEDULED])
        .select_related("seller")
        .order_by("state", "ends_at", "pk")  # "live" sorts before "scheduled"
    )


def addresses_for(user: AbstractBaseUser) -> QuerySet[Address]:
    return Address.objects.filter(user=user).order_by("pk")


def order_lines_with_product(order_ids: Iterable[int]) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.filter(order_id__in=list(order_ids))
        .select_related("sku__listing__shop", "sku__listing__product", "campaign_item__campaign")
        .order_by("pk")
    )


def orders_for_seller(seller: Seller) -> QuerySet[Order]:
    return Order.objects.filter(shop__seller=seller).select_related("shop", "campaign", "buyer")


def campaign_item_sales(item_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per campaign item: orders paid through Juhuasuan, pieces sold and what buyers actually paid.

    Refunded money is left out of the sales, so the premium estimate follows what stays sold.
    """
    rows = (
        OrderLine.objects.filter(campaign_item_id__in=list(item_ids), order__paid_at__isnull=False)
        .values("campaign_item_id")
        .annotate(
            orders=Count("order_id", distinct=True),
            pieces=Sum("quantity"),
            paid=Sum("paid_fen"),
            refunded=Sum("refunded_fen"),
        )
    )
    return {
        row["campaign_item_id"]: {
            "orders": row["orders"],
            "pieces": row["pieces"] or 0,
            "sales_fen": (row["paid"] or 0) - (row["refunded"] or 0),
        }
        for row in rows
    }
