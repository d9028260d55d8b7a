"""An order after it is placed: paid, shipped, received (trade succeeds), cancelled, closed unpaid."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.models import AccountKind, TransferKind
from alipay.services import Leg, system_account, transfer_post, user_account
from core.i18n import stored_text
from core.services import audit_record, audit_record_query
from orders.errors import refusal
from orders.events import OrderEvent, announce
from orders.models import (
    Order,
    OrderAction,
    OrderLine,
    OrderState,
)
from orders.price_records import record_paid_lines


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _locked_for(order: Order, buyer: AbstractBaseUser) -> Order:
    """The order locked, if it is this buyer's; another buyer's order does not exist for them."""
    order = _locked(order)
    if order.buyer_id != buyer.pk:
        raise refusal("not_found")
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
            raise refusal("order_not_payable:closed")
        if timezone.now() >= order.pay_deadline:
            raise refusal("order_not_payable:expired")
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
        _transition(
            order, to_state=OrderState.PAID, stamp="paid_at", actor=buyer, action=OrderAction.ORDER_PAY
        )
        record_paid_lines(order)
        announce(OrderEvent.PAID, order=order)
    return order


def order_ship(*, order: Order, actor=None) -> Order:
    with transaction.atomic():
        order = _locked(order)
        if order.state == OrderState.SHIPPED:
            return order
        if order.state != OrderState.PAID:
            raise refusal("order_not_shippable")
        _transition(
            order, to_state=OrderState.SHIPPED, stamp="shipped_at", actor=actor, action=OrderAction.ORDER_SHIP
        )
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
            raise refusal("order_not_shipped")
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
            order,
            to_state=OrderState.SUCCEEDED,
            stamp="succeeded_at",
            actor=buyer,
            action=OrderAction.ORDER_CONFIRM,
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
            raise refusal("order_not_cancellable")
        _transition(
            order, to_state=OrderState.CLOSED, stamp="closed_at", actor=buyer, action=OrderAction.ORDER_CANCEL
        )
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
                action=OrderAction.ORDER_CLOSE_UNPAID,
                from_state=OrderState.CREATED,
                to_state=OrderState.CLOSED,
                reason="unpaid timeout",
            )
            closed += moved
