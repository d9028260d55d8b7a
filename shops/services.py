from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.errors import ServiceError
from core.money import format_fen
from core.numbers import require_int
from core.services import audit_record
from shops.errors import refusal
from shops.models import Coupon, PriceRecord, PriceSource, Shop, ShopAction, Sku

MAX_PRICE_FEN = 10**10  # ¥100,000,000: beyond any Juhuasuan item


def _check_amount(value: object, error: ServiceError) -> int:
    return require_int(value, min_value=1, max_value=MAX_PRICE_FEN, error=error)


def sku_price_change(*, sku: Sku, price_fen: int, actor=None) -> Sku:
    """Set a SKU's list price. Setting the same price again changes nothing."""
    _check_amount(price_fen, refusal("invalid_price"))
    with transaction.atomic():
        sku = Sku.objects.select_for_update().get(pk=sku.pk)
        if sku.price_fen == price_fen:
            return sku
        old = sku.price_fen
        sku.price_fen = price_fen
        sku.save(update_fields=["price_fen", "updated_at"])
        audit_record(
            subject=sku, action=ShopAction.PRICE_CHANGE, actor=actor, data={"from": old, "to": price_fen}
        )
        price_records_public(
            prices=[PublicPrice(sku, price_fen, PriceSource.LIST_PRICE, sku.pk)], observed_at=sku.updated_at
        )
    return sku


def coupon_issue(
    *,
    shop: Shop | None,
    name: str,
    amount_fen: int,
    min_spend_fen: int = 0,
    valid_from: datetime | None = None,
    valid_until: datetime,
    actor=None,
) -> Coupon:
    """Issue a shop coupon (or, with no shop, a platform allowance)."""
    _check_amount(amount_fen, refusal("invalid_amount:coupon"))
    require_int(min_spend_fen, min_value=0, error=refusal("invalid_amount:min_spend"))
    if min_spend_fen and amount_fen >= min_spend_fen:
        # 满 ¥20 减 ¥50 would pay the buyer to order: a threshold coupon takes off less than it asks.
        raise refusal(
            "coupon_amount_above_threshold", amount=format_fen(amount_fen), min=format_fen(min_spend_fen)
        )
    valid_from = valid_from or timezone.now()
    if valid_until <= valid_from:
        raise refusal("invalid_period")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise refusal("invalid_name")
    with transaction.atomic():
        coupon = Coupon.objects.create(
            shop=shop,
            name=name,
            amount_fen=amount_fen,
            min_spend_fen=min_spend_fen,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        audit_record(subject=coupon, action=ShopAction.COUPON_ISSUE, actor=actor)
        if shop is not None and valid_from <= timezone.now():
            _record_coupon_prices(coupon)
    return coupon


# --- price records (成交价记录) ---------------------------------------------------------------


def unit_price_fen(*, paid_fen: int, quantity: int) -> int:
    """A line's actual unit price: what was paid ÷ quantity, rounded up to the fen, so that a
    rounding never pays a buyer more than the drop was."""
    return -(-paid_fen // quantity)


@dataclass(frozen=True)
class PaidLine:
    """What orders tell shops about a paid order line (shops never imports orders)."""

    sku: Sku
    line_id: int
    order_id: int
    paid_fen: int
    quantity: int
    paid_at: datetime
    excluded: bool = False


def price_records_for_lines(*, lines: Sequence[PaidLine]) -> int:
    """Record each paid order line's actual unit price. Called inside the payment's transaction;
    a line already recorded is skipped (the unique source makes a second record impossible)."""
    rows = [
        PriceRecord(
            product_id=line.sku.listing.product_id,
            specs_key=line.sku.specs_key,
            sku=line.sku,
            shop_id=line.sku.listing.shop_id,
            platform=line.sku.listing.shop.platform,
            unit_price_fen=unit_price_fen(paid_fen=line.paid_fen, quantity=line.quantity),
            observed_at=line.paid_at,
            source=PriceSource.ORDER_LINE,
            source_id=line.line_id,
            order_ref=line.order_id,
            excluded=line.excluded,
        )
        for line in lines
    ]
    return len(PriceRecord.objects.bulk_create(rows, ignore_conflicts=True))


@dataclass(frozen=True)
class PublicPrice:
    """A price anyone could buy one unit of a SKU at: its list price, a campaign price, or the
    list price less a shop-wide coupon."""

    sku: Sku
    unit_price_fen: int
    source: str
    source_id: int
    excluded: bool = False


def price_records_public(*, prices: Sequence[PublicPrice], observed_at: datetime) -> int:
    """Record public prices as seen at ``observed_at`` (called inside the change's transaction)."""
    rows = [
        PriceRecord(
            product_id=price.sku.listing.product_id,
            specs_key=price.sku.specs_key,
            sku=price.sku,
            shop_id=price.sku.listing.shop_id,
            platform=price.sku.listing.shop.platform,
            unit_price_fen=price.unit_price_fen,
            observed_at=observed_at,
            source=price.source,
            source_id=price.source_id,
            excluded=price.excluded,
        )
        for price in prices
        if price.unit_price_fen >= 0
    ]
    return len(PriceRecord.objects.bulk_create(rows, batch_size=2_000))


def coupon_price(
    sku: Sku, unit_price_fen: int, coupons: Sequence[Coupon], *, excluded: bool = False
) -> PublicPrice | None:
    """One unit at ``unit_price_fen`` less the best of these shop coupons it reaches, if any."""
    usable = [
        c
        for c in coupons
        if c.shop_id == sku.listing.shop_id
        and c.min_spend_fen <= unit_price_fen
        and c.amount_fen < unit_price_fen
    ]
    if not usable:
        return None
    best = max(usable, key=lambda c: (c.amount_fen, -c.pk))
    return PublicPrice(sku, unit_price_fen - best.amount_fen, PriceSource.SHOP_COUPON, best.pk, excluded)


def _record_coupon_prices(coupon: Coupon) -> int:
    """A shop-wide coupon anyone may use lowers the public price of every SKU it applies to, one
    unit bought alone: list price − coupon, where the list price reaches the coupon's threshold."""
    skus = Sku.objects.filter(listing__shop=coupon.shop_id).select_related("listing__shop")
    prices = [coupon_price(sku, sku.price_fen, [coupon]) for sku in skus]
    return price_records_public(
        prices=[p for p in prices if p is not None], observed_at=max(coupon.valid_from, coupon.created_at)
    )
