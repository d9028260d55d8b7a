"""What orders tell shops' price records (成交价记录): paid lines, campaign prices, and the
prices in effect when a claim window opens."""

from collections.abc import Sequence
from datetime import datetime

from orders.models import Campaign, CampaignItem, CampaignState, Order
from shops.models import Coupon, PriceSource, Sku
from shops.services import (
    PaidLine,
    PublicPrice,
    coupon_price,
    price_records_for_lines,
    price_records_public,
)


def record_paid_lines(order: Order) -> int:
    """Every line of a paid order is an actual transaction price of its product. Called inside
    the payment's transaction."""
    lines = order.lines.select_related("sku__listing__shop", "campaign_item__campaign")
    return price_records_for_lines(
        lines=[
            PaidLine(
                sku=line.sku,
                line_id=line.pk,
                order_id=order.pk,
                paid_fen=line.paid_fen,
                quantity=line.quantity,
                paid_at=order.paid_at,
                excluded=bool(line.campaign_item and line.campaign_item.campaign.excluded_from_claims),
            )
            for line in lines
        ]
    )


def _campaign_price(item: CampaignItem, campaign: Campaign) -> PublicPrice:
    return PublicPrice(
        item.sku, item.campaign_price_fen, PriceSource.CAMPAIGN_PRICE, item.pk, campaign.excluded_from_claims
    )


def record_campaign_prices(
    campaign: Campaign, items: Sequence[CampaignItem], *, observed_at: datetime
) -> int:
    """A campaign price is a public price from the moment the campaign is live."""
    return price_records_public(
        prices=[_campaign_price(item, campaign) for item in items], observed_at=observed_at
    )


def record_prices_in_effect(*, campaign: Campaign, at: datetime) -> int:
    """When a campaign ends, its claim window opens: every public price of the same products in
    effect at that moment — a list price, another live campaign's price, either less the best
    shop coupon — is recorded as seen then, so a lower price set before the window and still
    holding counts inside it."""
    products = campaign.items.values("sku__listing__product_id")
    skus = Sku.objects.filter(listing__product_id__in=products).select_related("listing__shop")
    live = {
        item.sku_id: item
        for item in CampaignItem.objects.filter(
            sku__in=skus,
            campaign__state=CampaignState.LIVE,
            campaign__starts_at__lte=at,
            campaign__ends_at__gt=at,
        )
        .exclude(campaign=campaign)
        .select_related("campaign")
    }
    coupons = list(
        Coupon.objects.filter(
            shop__in=skus.values("listing__shop"), active=True, valid_from__lte=at, valid_until__gt=at
        )
    )
    prices = []
    for sku in skus:
        item = live.get(sku.pk)
        price = (
            _campaign_price(item, item.campaign)
            if item
            else PublicPrice(sku, sku.price_fen, PriceSource.LIST_PRICE, sku.pk)
        )
        prices.append(price)
        with_coupon = coupon_price(sku, price.unit_price_fen, coupons, excluded=price.excluded)
        if with_coupon is not None:
            prices.append(with_coupon)
    return price_records_public(prices=prices, observed_at=at)
