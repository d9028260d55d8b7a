"""My orders (我的订单), an order's details page, and the buyer's actions on an order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from claims.selectors import evidence_claims, evidence_order_numbers, price_drops_for_lines
from core.errors import ServiceError
from insurance.models import PolicyState
from orders import services
from orders.models import OrderState
from orders.selectors import (
    orders_for_buyer,
)
from web.buyer.insurance import render_order_page
from web.keyset import keyset_page
from web.order_lists import PAGE_SIZE, attach_lines, state_tabs


def _mark_claimable_drops(orders) -> None:
    """ "可赔 ¥10" on each insured line with a drop the platform found and nobody claimed yet."""
    lines = [line for order in orders for line in order.line_list if line.insurance]
    drops = price_drops_for_lines(line.pk for line in lines)
    for line in lines:
        drop = drops.get(line.pk)
        unclaimed = drop is not None and not drop.claim_number
        line.claimable_drop = drop if unclaimed and line.insurance.state == PolicyState.CLAIMABLE else None


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    orders = orders_for_buyer(request.user).order_by("-created_at", "-pk")
    if state in OrderState.values:
        orders = orders.filter(state=state)
    else:
        state = ""
    page = keyset_page(orders, request.GET, size=PAGE_SIZE)
    attach_lines(page.object_list)
    evidence = evidence_claims(
        buyer=request.user, numbers=[o.number for o in page.object_list if o.state == OrderState.CREATED]
    )
    for order in page.object_list:
        order.evidence_claim = evidence.get(order.number)
    # An evidence order is left unpaid on purpose: it is not a payment the buyer still owes.
    to_pay = (
        orders_for_buyer(request.user)
        .filter(state=OrderState.CREATED)
        .exclude(number__in=evidence_order_numbers(request.user))
        .count()
    )
    _mark_claimable_drops(page.object_list)
    return render(
        request,
        "buyer/mine.html",
        {
            "page": page,
            "tabs": state_tabs(state, counts={OrderState.CREATED: to_pay}),
            "state": state,
            "now": timezone.now(),
            "section": "orders",
        },
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(orders_for_buyer(request.user), number=number)
    return render_order_page(request, order)


def _order_action(request: HttpRequest, number: str, act, done: str) -> HttpResponse:
    order = get_object_or_404(orders_for_buyer(request.user), number=number)
    try:
        act(order=order, buyer=request.user)
    except ServiceError as error:
        return render_order_page(request, order, action_error=error.message, status=400)
    messages.success(request, done)
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    return _order_action(request, number, services.order_pay, _("付款成功,钱款由支付宝担保交易保管。"))


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    return _order_action(request, number, services.order_cancel, _("订单已取消。"))


@login_required
@require_POST
def order_confirm(request: HttpRequest, number: str) -> HttpResponse:
    return _order_action(request, number, services.order_confirm_receipt, _("已确认收货,交易成功。"))
