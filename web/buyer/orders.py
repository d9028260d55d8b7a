"""My orders (我的订单), an order's details page, and the buyer's actions on an order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from orders import services
from orders.models import OrderState
from orders.selectors import (
    orders_for_buyer,
)
from web.buyer.insurance import render_order_page
from web.order_lists import PAGE_SIZE, attach_lines, state_tabs


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    orders = orders_for_buyer(request.user).order_by("-created_at", "-pk")
    if state in OrderState.values:
        orders = orders.filter(state=state)
    else:
        state = ""
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_lines(page.object_list)
    return render(
        request,
        "buyer/mine.html",
        {
            "page": page,
            "tabs": state_tabs(state),
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
