"""Every change to a campaign or an order goes through one of these functions."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.models import AccountKind, Transfer, TransferKind
from alipay.services import Leg, system_account, transfer_post, user_account
from core.errors import InvalidInput, ServiceError
from core.i18n import stored_text
from core.numbers import new_number
from core.services import audit_record, audit_record_many, audit_record_query
from orders.events import OrderEvent, announce
from orders.models import (
    Address,
    Campaign,
    CampaignItem,
    CampaignState,
    Order,
    OrderLine,
    OrderState,
)
from orders.price_records import record_campaign_prices, record_paid_lines, record_prices_in_effect
from shops.models import Coupon, Seller, Sku
from shops.services import MAX_PRICE_FEN

MAX_QUANTITY = 999


class OrderRefused(ServiceError):
    pass


# --- campaigns ------------------------------------------------------------------------------


def campaign_create(
    *,
    seller: Seller,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    excluded_from_claims: bool = False,
    exclusion_note: str = "",
    actor=None,
) -> Campaign:
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise InvalidInput("invalid_name", _("请填写 1 到 128 个字符的活动名称。"))
    if ends_at <= starts_at:
        raise InvalidInput("invalid_period", _("活动结束时间必须晚于开始时间。"))
    with transaction.atomic():
        campaign = Campaign.objects.create(
            seller=seller,
            name=name,
            starts_at=starts_at,
            ends_at=ends_at,
            excluded_from_claims=excluded_from_claims,
            exclusion_note=exclusion_note,
        )
        audit_record(subject=campaign, action="campaign_create", actor=actor, to_state=campaign.state)
    return campaign


def campaign_item_add(*, campaign: Campaign, sku: Sku, campaign_price_fen: int, actor=None) -> CampaignItem:
    """Put a SKU into a campaign at its campaign price. Adding it again keeps the first."""
    if (
        isinstance(campaign_price_fen, bool)
        or not isinstance(campaign_price_fen, int)
        or not 0 < campaign_price_fen <= MAX_PRICE_FEN
    ):
        raise InvalidInput("invalid_price", _("活动价必须是大于零的整数(分),且不超过一亿元。"))
    if sku.listing.shop.seller_id != campaign.seller_id:
        raise InvalidInput("not_your_sku", _("只能把自己店铺的商品加入活动。"))
    if campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE):
        raise OrderRefused("campaign_over", _("活动已结束,不能再添加商品。"))
    with transaction.atomic():
        item, created = CampaignItem.objects.get_or_create(
            campaign=campaign, sku=sku, defaults={"campaign_price_fen": campaign_price_fen}
        )
        if created:
            audit_record(subject=item, action="campaign_item_add", actor=actor)
            if campaign.state == CampaignState.LIVE:
                record_campaign_prices(campaign, [item], observed_at=timezone.now())
    return item


def _campaign_cas(campaign_ids: Sequence[int], *, from_state: str, to_state: str) -> list[int]:
    """Move campaigns from one state to the next; return the ids this call moved."""
    moved = []
    for pk in campaign_ids:
        if Campaign.objects.filter(pk=pk, state=from_state).update(state=to_state):
            moved.append(pk)
    audit_record_many(
        model=Campaign, object_ids=moved, action="campaign_advance", from_state=from_state, to_state=to_state
    )
    return moved


def campaigns_advance(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Start campaigns whose time has come and end those whose time is up.

    Safe to run twice, late or concurrently: each move is a compare-and-set on the state, so a
    campaign is started or ended by exactly one caller. A late run takes a scheduled campaign whose
    end has passed straight to ended.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due_start = list(
            Campaign.objects.filter(state=CampaignState.SCHEDULED, starts_at__lte=now).values_list(
                "pk", flat=True
            )
        )
        started = _campaign_cas(due_start, from_state=CampaignState.SCHEDULED, to_state=CampaignState.LIVE)
        for campaign in Campaign.objects.filter(pk__in=started):
            items = campaign.items.select_related("sku__listing__shop")
            record_campaign_prices(campaign, list(items), observed_at=campaign.starts_at)
        due_end = list(
            Campaign.objects.filter(state=CampaignState.LIVE, ends_at__lte=now).values_list("pk", flat=True)
        )
        ended = _campaign_cas(due_end, from_state=CampaignState.LIVE, to_state=CampaignState.ENDED)
        for campaign in Campaign.objects.filter(pk__in=ended):
            record_prices_in_effect(campaign=campaign, at=campaign.ends_at)
    return {"started": started, "ended": ended}


def campaign_settle(*, campaign: Campaign) -> bool:
    """Mark a campaign's claim window as closed (called by insurance when every window closed)."""
    with transaction.atomic():
        moved = _campaign_cas([campaign.pk], from_state=CampaignState.ENDED, to_state=CampaignState.SETTLED)
    return bool(moved)


# --- orders ---------------------------------------------------------------------------------


def _live_campaign_item(sku: Sku, now: datetime) -> CampaignItem | None:
    return (
        CampaignItem.objects.filter(
            sku=sku,
            campaign__state=CampaignState.LIVE,
            campaign__starts_at__lte=now,
            campaign__ends_at__gt=now,
        )
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
        raise InvalidInput("coupon_not_applicable", _("这张优惠券不能用于本店铺的订单。"))
    if not coupon.active or not coupon.valid_from <= now < coupon.valid_until:
        raise InvalidInput("coupon_expired", _("优惠券不在有效期内。"))
    if base < coupon.min_spend_fen:
        raise InvalidInput("coupon_min_spend", _("未达到优惠券的使用门槛。"))
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
        raise InvalidInput("empty_order", _("请至少选择一件商品。"))
    # Price from the rows as they are now, not from whatever copy the caller holds.
    fresh = Sku.objects.select_related("listing__shop").in_bulk([sku.pk for sku, _qty in items])
    items = [(fresh[sku.pk], quantity) for sku, quantity in items]
    shops = {sku.listing.shop_id for sku, _qty in items}
    if len(shops) != 1:
        raise InvalidInput("mixed_shops", _("一笔订单只能包含同一店铺的商品。"))
    if len({sku.pk for sku, _qty in items}) != len(items):
        raise InvalidInput("duplicate_sku", _("同一 SKU 请合并为一行并填写数量。"))
    lines = []
    for sku, quantity in items:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput("invalid_quantity", _("数量必须是 1 到 999 之间的整数。"))
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
        raise InvalidInput("invalid_address", _("请选择您自己的收货地址。"))
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
        audit_record(subject=order, action="order_place", actor=buyer, to_state=order.state)
    return order


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _locked_for(order: Order, buyer: AbstractBaseUser) -> Order:
    """The order locked, if it is this buyer's; another buyer's order does not exist for them."""
    order = _locked(order)
    if order.buyer_id != buyer.pk:
        raise OrderRefused("not_found", _("订单不存在。"))
    return order


def _transition(order: Order, *, to_state: str, stamp: str, actor, action: str, reason: str = "") -> None:
    from_state = order.state
    order.state = to_state
    setattr(order, stamp, timezone.now())
    order.save(update_fields=["state", stamp])
    audit_record(
        subject=order, action=action, actor=actor, from_state=from_state, to_state=to_state, reason=reason
    )


def order_pay(*, order: Order, buyer: AbstractBaseUser) -> Order:
    """Pay with the buyer's Alipay balance into escrow (担保交易). Paying again is a no-op."""
    with transaction.atomic():
        order = _locked_for(order, buyer)
        if order.paid_at:
            return order
        if order.state != OrderState.CREATED:
            raise OrderRefused("order_not_payable", _("订单已关闭,不能付款。"))
        if timezone.now() >= order.pay_deadline:
            raise OrderRefused("order_not_payable", _("订单已超过付款时限。"))
        escrow = system_account(AccountKind.ESCROW)
        legs = [Leg(escrow, order.paid_fen + order.platform_discount_fen)]
        if order.paid_fen:
            legs.append(Leg(user_account(user=buyer, kind=AccountKind.BUYER), -order.paid_fen))
        if order.platform_discount_fen:
            legs.append(Leg(system_account(AccountKind.MARKETING), -order.platform_discount_fen))
        if legs[0].amount_fen:
            transfer_post(
                key=f"pay:order:{order.pk}",
                kind=TransferKind.ORDER_PAYMENT,
                legs=legs,
                memo=stored_text(_("订单付款 %(number)s"), number=order.number),
                reference=f"order:{order.pk}",
            )
        _transition(order, to_state=OrderState.PAID, stamp="paid_at", actor=buyer, action="order_pay")
        record_paid_lines(order)
        announce(OrderEvent.PAID, order=order)
    return order


def order_ship(*, order: Order, actor=None) -> Order:
    with transaction.atomic():
        order = _locked(order)
        if order.state == OrderState.SHIPPED:
            return order
        if order.state != OrderState.PAID:
            raise OrderRefused("order_not_shippable", _("只有待发货的订单可以发货。"))
        _transition(order, to_state=OrderState.SHIPPED, stamp="shipped_at", actor=actor, action="order_ship")
    return order


def _allowance_kept(line: OrderLine) -> int:
    """The platform allowance still in escrow for a line: gone back once the line was refunded in full."""
    return 0 if line.paid_fen and line.refunded_fen >= line.paid_fen else line.platform_discount_fen


def order_confirm_receipt(*, order: Order, buyer: AbstractBaseUser) -> Order:
    """The buyer confirms receipt: the trade succeeds (交易成功) and escrow pays the seller."""
    with transaction.atomic():
        order = _locked_for(order, buyer)
        if order.state == OrderState.SUCCEEDED:
            return order
        if order.state != OrderState.SHIPPED:
            raise OrderRefused("order_not_shipped", _("订单尚未发货,不能确认收货。"))
        lines = order.lines.all()
        amount = sum(line.paid_fen + _allowance_kept(line) - line.refunded_fen for line in lines)
        if amount:
            transfer_post(
                key=f"settle:order:{order.pk}",
                kind=TransferKind.TRADE_SETTLEMENT,
                legs=[
                    Leg(system_account(AccountKind.ESCROW), -amount),
                    Leg(user_account(user=order.shop.seller.user, kind=AccountKind.SELLER), amount),
                ],
                memo=stored_text(_("交易成功 %(number)s"), number=order.number),
                reference=f"order:{order.pk}",
            )
        _transition(
            order, to_state=OrderState.SUCCEEDED, stamp="succeeded_at", actor=buyer, action="order_confirm"
        )
        announce(OrderEvent.SUCCEEDED, order=order)
    return order


def order_cancel(*, order: Order, buyer: AbstractBaseUser) -> Order:
    """The buyer cancels an unpaid order (交易关闭)."""
    with transaction.atomic():
        order = _locked_for(order, buyer)
        if order.state == OrderState.CLOSED:
            return order
        if order.state != OrderState.CREATED:
            raise OrderRefused("order_not_cancellable", _("只有待付款的订单可以取消。"))
        _transition(order, to_state=OrderState.CLOSED, stamp="closed_at", actor=buyer, action="order_cancel")
    return order


def orders_close_unpaid(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Close every unpaid order past its deadline, in chunks of set-based UPDATEs.

    The ``state='created'`` guard in the UPDATE is the compare-and-set: an order paid a moment
    ago is not closed, and two sweeps never close the same order twice.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.BAOJIA["BATCH_SIZE"]
    closed = 0
    while True:
        with transaction.atomic():
            ids = list(
                Order.objects.filter(state=OrderState.CREATED, pay_deadline__lte=now).values_list(
                    "pk", flat=True
                )[:batch_size]
            )
            if not ids:
                return closed
            moved = Order.objects.filter(pk__in=ids, state=OrderState.CREATED).update(
                state=OrderState.CLOSED, closed_at=now
            )
            # Audit only what this UPDATE moved (an order paid meanwhile stays out): ``now`` marks it.
            audit_record_query(
                queryset=Order.objects.filter(pk__in=ids, state=OrderState.CLOSED, closed_at=now),
                action="order_close_unpaid",
                from_state=OrderState.CREATED,
                to_state=OrderState.CLOSED,
                reason="unpaid timeout",
            )
            closed += moved


def _refund_source(order: Order):
    if order.state == OrderState.SUCCEEDED:
        return user_account(user=order.shop.seller.user, kind=AccountKind.SELLER)
    return system_account(AccountKind.ESCROW)


def order_line_refund(
    *, line: OrderLine, amount_fen: int, request_id: str, actor=None, reason: str = ""
) -> OrderLine:
    """A partial refund of one line (售后). The same ``request_id`` twice refunds once."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidInput("invalid_amount", _("退款金额必须大于零。"))
    if not request_id or len(request_id) > 40:
        raise InvalidInput("invalid_request", _("请提供售后单号。"))
    with transaction.atomic():
        order = _locked(line.order)
        line = OrderLine.objects.select_for_update().get(pk=line.pk)
        key = f"refund:line:{line.pk}:{request_id}"
        if Transfer.objects.filter(key=key).exists():
            return line
        if order.state not in (OrderState.PAID, OrderState.SHIPPED, OrderState.SUCCEEDED):
            raise OrderRefused("order_not_refundable", _("该订单状态不能退款。"))
        if amount_fen > line.paid_fen - line.refunded_fen:
            raise InvalidInput("refund_too_large", _("退款金额不能超过实付款减去已退款。"))
        legs = [Leg(user_account(user=order.buyer, kind=AccountKind.BUYER), amount_fen)]
        # A line refunded in full before the trade succeeded gives the platform its allowance back.
        allowance = (
            line.platform_discount_fen
            if order.state != OrderState.SUCCEEDED and line.refunded_fen + amount_fen == line.paid_fen
            else 0
        )
        if allowance:
            legs.append(Leg(system_account(AccountKind.MARKETING), allowance))
        legs.append(Leg(_refund_source(order), -(amount_fen + allowance)))
        transfer_post(
            key=key,
            kind=TransferKind.REFUND,
            legs=legs,
            memo=stored_text(_("部分退款 %(number)s"), number=order.number),
            reference=f"order:{order.pk}",
        )
        line.refunded_fen += amount_fen
        line.save(update_fields=["refunded_fen"])
        audit_record(
            subject=order,
            action="order_line_refund",
            actor=actor,
            reason=reason,
            data={"line": line.pk, "amount_fen": amount_fen},
        )
        announce(OrderEvent.LINE_REFUNDED, line=line, amount_fen=amount_fen, full_order=False)
    return line


def order_refund(*, order: Order, actor=None, reason: str = "") -> Order:
    """Refund the whole order (what is left of it). Refunding again is a no-op."""
    with transaction.atomic():
        order = _locked(order)
        if order.state == OrderState.REFUNDED:
            return order
        if order.state not in (OrderState.PAID, OrderState.SHIPPED, OrderState.SUCCEEDED):
            raise OrderRefused("order_not_refundable", _("该订单状态不能退款。"))
        lines = list(order.lines.select_for_update().order_by("pk"))
        to_buyer = sum(line.paid_fen - line.refunded_fen for line in lines)
        source = _refund_source(order)
        legs = []
        if to_buyer:
            legs.append(Leg(user_account(user=order.buyer, kind=AccountKind.BUYER), to_buyer))
        platform_back = (
            sum(_allowance_kept(line) for line in lines) if order.state != OrderState.SUCCEEDED else 0
        )
        if platform_back:
            legs.append(Leg(system_account(AccountKind.MARKETING), platform_back))
        if legs:
            legs.append(Leg(source, -(to_buyer + platform_back)))
            transfer_post(
                key=f"refund:order:{order.pk}",
                kind=TransferKind.REFUND,
                legs=legs,
                memo=stored_text(_("退款 %(number)s"), number=order.number),
                reference=f"order:{order.pk}",
            )
        _transition(
            order,
            to_state=OrderState.REFUNDED,
            stamp="refunded_at",
            actor=actor,
            action="order_refund",
            reason=reason,
        )
        for line in lines:
            amount = line.paid_fen - line.refunded_fen
            line.refunded_fen = line.paid_fen
            line.save(update_fields=["refunded_fen"])
            announce(OrderEvent.LINE_REFUNDED, line=line, amount_fen=amount, full_order=True)
    return order


def address_create(
    *, user: AbstractBaseUser, recipient: str, phone: str, region: str, detail: str
) -> Address:
    fields = {"recipient": recipient, "phone": phone, "region": region, "detail": detail}
    for name, value in fields.items():
        limit = Address._meta.get_field(name).max_length
        if not (value or "").strip() or len(value) > limit:
            raise InvalidInput("invalid_address", _("请完整填写收货地址(每项不超过长度限制)。"))
    return Address.objects.create(user=user, **{k: v.strip() for k, v in fields.items()})
