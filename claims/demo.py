"""The demo's price drops (called by ``seed_demo``): the ended campaign's recorded prices move
back in time with it, then detection runs once, so the demo buyer sees a detected drop and its
notice right after ``make run``."""

from django.db.models import OuterRef, Subquery

from claims.detection import price_drops_detect
from orders.models import Campaign, Order
from shops.models import PriceRecord, PriceSource


def align_price_records(campaign: Campaign) -> None:
    """After the demo moved a played-out campaign into the past: its order lines were paid, and
    its campaign price became public, when the moved rows say."""
    paid_at = Order.objects.filter(pk=OuterRef("order_ref")).values("paid_at")[:1]
    PriceRecord.objects.filter(
        source=PriceSource.ORDER_LINE, order_ref__in=Order.objects.filter(campaign=campaign).values("pk")
    ).update(observed_at=Subquery(paid_at))
    PriceRecord.objects.filter(
        source=PriceSource.CAMPAIGN_PRICE, source_id__in=campaign.items.values("pk")
    ).update(observed_at=campaign.starts_at)


def seed_price_drops() -> dict[str, int]:
    return price_drops_detect(full=True)
