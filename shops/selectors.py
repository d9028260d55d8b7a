"""Reads of shops, listings and SKUs that several callers share."""

from datetime import datetime

from django.db.models import Q, QuerySet

from shops.models import Coupon, Listing, Seller, Shop, Sku


def shops_for_seller(seller: Seller) -> QuerySet[Shop]:
    return Shop.objects.filter(seller=seller).order_by("pk")


def listings_for_seller(seller: Seller) -> QuerySet[Listing]:
    return (
        Listing.objects.filter(shop__seller=seller)
        .select_related("shop", "product")
        .prefetch_related("skus")
        .order_by("pk")
    )


def skus_for_seller(seller: Seller) -> QuerySet[Sku]:
    return Sku.objects.filter(listing__shop__seller=seller).select_related("listing__shop").order_by("pk")


# --- web: storefront and seller catalog ------------------------------------------------------


def seller_of(user) -> Seller | None:
    """The seller a user runs, or None for buyers, staff and anonymous visitors."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Seller.objects.filter(user=user).first()


def storefront_listings(*, platform: str | None = None) -> QuerySet[Listing]:
    """Every listing with its shop, product and SKUs (cheapest first), newest shops last."""
    listings = Listing.objects.select_related("shop", "product").prefetch_related("skus").order_by("pk")
    if platform:
        listings = listings.filter(shop__platform=platform)
    return listings


def coupons_usable(*, shop: Shop, now: datetime) -> tuple[list[Coupon], list[Coupon]]:
    """The shop's coupons and the platform allowances a buyer may choose at checkout now."""
    valid = Coupon.objects.filter(active=True, valid_from__lte=now, valid_until__gt=now)
    rows = list(valid.filter(Q(shop=shop) | Q(shop__isnull=True)).order_by("-amount_fen", "pk"))
    return [c for c in rows if c.shop_id], [c for c in rows if not c.shop_id]


def coupons_for_seller(seller: Seller) -> QuerySet[Coupon]:
    return Coupon.objects.filter(shop__seller=seller).select_related("shop").order_by("-created_at", "-pk")
