"""Refunds of a whole order or of one line, before or after the trade succeeded."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from alipay.models import AccountKind, Transfer, TransferKind
from alipay.services import Leg, system_account, transfer_post, user_account
from core.i18n import stored_text
from core.numbers import require_int
from core.services import audit_record
from orders.errors import refusal
from orders.events import OrderEvent, announce
from orders.models import (
    Order,
    OrderAction,
    OrderLine,
    OrderState,
)
from orders.services.lifecycle import _allowance_kept, _locked, _transition


def _refund_source(order: Order):
    if order.state == OrderState.SUCCEEDED:
        return user_account(user=order.shop.seller.user, kind=AccountKind.SELLER)
    return system_account(AccountKind.ESCROW)


def order_line_refund(
    *, line: OrderLine, amount_fen: int, request_id: str, actor=None, reason: str = ""
) -> OrderLine:
    """A partial refund of one line (售后). The same ``request_id`` twice refunds once."""
    require_int(amount_fen, min_value=1, error=refusal("invalid_amount"))
    if not request_id or len(request_id) > 40:
        raise refusal("invalid_request")
    with transaction.atomic():
        order = _locked(line.order)
        line = OrderLine.objects.select_for_update().get(pk=line.pk)
        key = f"refund:line:{line.pk}:{request_id}"
        if Transfer.objects.filter(key=key).exists():
            return line
        if order.state not in (OrderState.PAID, OrderState.SHIPPED, OrderState.SUCCEEDED):
            raise refusal("order_not_refundable")
        if amount_fen > line.paid_fen - line.refunded_fen:
            raise refusal("refund_too_large")
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
            action=OrderAction.ORDER_LINE_REFUND,
            actor=actor,
            reason=reason,
            data={"line": line.pk, "amount_fen": amount_fen},
        )
        announce(OrderEvent.LINE_REFUNDED, line=line)
    return line


def order_refund(*, order: Order, actor=None, reason: str = "") -> Order:
    """Refund the whole order (what is left of it). Refunding again is a no-op."""
    with transaction.atomic():
        order = _locked(order)
        if order.state == OrderState.REFUNDED:
            return order
        if order.state not in (OrderState.PAID, OrderState.SHIPPED, OrderState.SUCCEEDED):
            raise refusal("order_not_refundable")
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
            action=OrderAction.ORDER_REFUND,
            reason=reason,
        )
        for line in lines:
            line.refunded_fen = line.paid_fen
            line.save(update_fields=["refunded_fen"])
            announce(OrderEvent.LINE_REFUNDED, line=line)
    return order
