"""The price of an order (campaign price, coupons, platform allowance, per line) and placing it."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.numbers import new_number, require_int
from core.services import audit_record
from orders.errors import MAX_QUANTITY, refusal
from orders.models import (
    Address,
    Campaign,
    CampaignItem,
    Order,
    OrderAction,
    OrderLine,
)
from shops.models import Coupon, Sku


def _live_campaign_item(sku: Sku, now: datetime) -> CampaignItem | None:
    return (
        CampaignItem.objects.filter(Campaign.live_at_q(now, prefix="campaign__"), sku=sku)
        .select_related("campaign")
        .first()
    )


def _allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over lines in proportion to ``weights``; the fen left over go to the
    largest remainders, so the parts always add up to the whole."""
    total = sum(weights)
    if total == 0:
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (amount * weights[i]) % total, reverse=True)
    for i in remainders[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def _coupon_discount(coupon: Coupon | None, *, base: int, now: datetime, shop_id: int, platform: bool) -> int:
    if coupon is None:
        return 0
    if coupon.is_platform != platform or (not platform and coupon.shop_id != shop_id):
        raise refusal("coupon_not_applicable")
    if not coupon.active or not coupon.valid_from <= now < coupon.valid_until:
        raise refusal("coupon_expired")
    if base < coupon.min_spend_fen:
        raise refusal("coupon_min_spend")
    return min(coupon.amount_fen, base)


def order_quote(
    *,
    items: Sequence[tuple[Sku, int]],
    shop_coupon: Coupon | None = None,
    platform_coupon: Coupon | None = None,
    now: datetime | None = None,
) -> list[OrderLine]:
    """The lines an order would have now, priced to the fen; nothing is saved.

    The storefront shows this before the buyer pays; an evidence order's price is this.
    """
    now = now or timezone.now()
    if not items:
        raise refusal("empty_order")
    # Price from the rows as they are now, not from whatever copy the caller holds.
    fresh = Sku.objects.select_related("listing__shop").in_bulk([sku.pk for sku, _qty in items])
    items = [(fresh[sku.pk], quantity) for sku, quantity in items]
    shops = {sku.listing.shop_id for sku, _qty in items}
    if len(shops) != 1:
        raise refusal("mixed_shops")
    if len({sku.pk for sku, _qty in items}) != len(items):
        raise refusal("duplicate_sku")
    lines = []
    for sku, quantity in items:
        require_int(
            quantity,
            min_value=1,
            max_value=MAX_QUANTITY,
            error=refusal("invalid_quantity"),
        )
        campaign_item = _live_campaign_item(sku, now)
        unit = campaign_item.campaign_price_fen if campaign_item else sku.price_fen
        lines.append(
            OrderLine(
                sku=sku,
                campaign_item=campaign_item,
                quantity=quantity,
                unit_price_fen=unit,
                item_total_fen=unit * quantity,
            )
        )
    # Coupons, too, as they are now: a coupon withdrawn a moment ago no longer applies.
    shop_coupon = Coupon.objects.get(pk=shop_coupon.pk) if shop_coupon else None
    platform_coupon = Coupon.objects.get(pk=platform_coupon.pk) if platform_coupon else None
    totals = [line.item_total_fen for line in lines]
    shop_id = shops.pop()
    shop_discount = _coupon_discount(shop_coupon, base=sum(totals), now=now, shop_id=shop_id, platform=False)
    for line, part in zip(lines, _allocate(shop_discount, totals), strict=True):
        line.shop_discount_fen = part
    after_shop = [line.item_total_fen - line.shop_discount_fen for line in lines]
    platform_discount = _coupon_discount(
        platform_coupon, base=sum(after_shop), now=now, shop_id=shop_id, platform=True
    )
    for line, part in zip(lines, _allocate(platform_discount, after_shop), strict=True):
        line.platform_discount_fen = part
        line.paid_fen = line.item_total_fen - line.shop_discount_fen - line.platform_discount_fen
    return lines


def order_place(
    *,
    buyer: AbstractBaseUser,
    address: Address,
    items: Sequence[tuple[Sku, int]],
    shop_coupon: Coupon | None = None,
    platform_coupon: Coupon | None = None,
    now: datetime | None = None,
) -> Order:
    """Place an order (待付款). A SKU in a live campaign is bought through Juhuasuan at its
    campaign price."""
    now = now or timezone.now()
    if address.user_id != buyer.pk:
        raise refusal("invalid_address:not_yours")
    lines = order_quote(items=items, shop_coupon=shop_coupon, platform_coupon=platform_coupon, now=now)
    campaigns = {line.campaign_item.campaign for line in lines if line.campaign_item}
    timeout = timedelta(minutes=settings.BAOJIA["UNPAID_ORDER_TIMEOUT"])
    with transaction.atomic():
        order = Order.objects.create(
            number=new_number(),
            buyer=buyer,
            shop=lines[0].sku.listing.shop,
            campaign=campaigns.pop() if len(campaigns) == 1 else None,
            ship_recipient=address.recipient,
            ship_phone=address.phone,
            ship_address=f"{address.region} {address.detail}",
            shop_coupon=shop_coupon,
            platform_coupon=platform_coupon,
            item_total_fen=sum(line.item_total_fen for line in lines),
            shop_discount_fen=sum(line.shop_discount_fen for line in lines),
            platform_discount_fen=sum(line.platform_discount_fen for line in lines),
            paid_fen=sum(line.paid_fen for line in lines),
            created_at=now,
            pay_deadline=now + timeout,
        )
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
        audit_record(subject=order, action=OrderAction.ORDER_PLACE, actor=buyer, to_state=order.state)
    return order
