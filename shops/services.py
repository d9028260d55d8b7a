from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from core.numbers import require_int
from core.services import audit_record
from shops.models import Coupon, Shop, ShopAction, Sku

MAX_PRICE_FEN = 10**10  # ¥100,000,000: beyond any Juhuasuan item


def _check_amount(value: object, *, code: str = "invalid_price") -> int:
    return require_int(
        value,
        min_value=1,
        max_value=MAX_PRICE_FEN,
        code=code,
        message=_("金额必须是大于零的整数(分),且不超过一亿元。"),
    )


def sku_price_change(*, sku: Sku, price_fen: int, actor=None) -> Sku:
    """Set a SKU's list price. Setting the same price again changes nothing."""
    _check_amount(price_fen)
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
    _check_amount(amount_fen, code="invalid_amount")
    require_int(min_spend_fen, min_value=0, code="invalid_amount", message=_("使用门槛不能为负数。"))
    valid_from = valid_from or timezone.now()
    if valid_until <= valid_from:
        raise InvalidInput("invalid_period", _("失效时间必须晚于生效时间。"))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("invalid_name", _("请填写 1 到 100 个字符的名称。"))
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
    return coupon
