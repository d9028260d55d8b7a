"""The seller's orders, with their policies, and shipping."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from orders import services
from orders.models import OrderState
from orders.selectors import (
    orders_for_seller,
)
from web.access import seller_required
from web.order_lists import PAGE_SIZE, attach_lines, state_tabs


@seller_required
@require_GET
def seller_orders(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    insured = request.GET.get("insured") == "1"
    query = request.GET.get("q", "").strip()
    orders = orders_for_seller(request.seller).order_by("-created_at", "-pk")
    if query:
        orders = orders.filter(number=query)
    if state in OrderState.values:
        orders = orders.filter(state=state)
    else:
        state = ""
    if insured:
        orders = orders.filter(lines__policy__isnull=False).distinct()
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    attach_lines(page.object_list)
    return render(
        request,
        "seller/orders.html",
        {
            "page": page,
            "tabs": state_tabs(state, extra={"insured": "1"} if insured else None),
            "state": state,
            "insured": insured,
            "query": query,
            "section": "seller_orders",
        },
    )


@seller_required
@require_POST
def seller_ship(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(orders_for_seller(request.seller), number=number)
    try:
        services.order_ship(order=order, actor=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("订单 %(number)s 已发货。") % {"number": order.number})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("orders:seller_orders")
    return redirect(next_url)
