"""The seller's orders, with their policies, and shipping."""

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from insurance.models import Policy
from orders import services
from orders.models import Order, OrderState
from orders.selectors import (
    orders_for_seller,
)
from web.access import seller_required
from web.keyset import KeysetPage, keyset_page
from web.order_lists import PAGE_SIZE, attach_lines, state_tabs


def _insured_orders_page(request: HttpRequest, *, state: str, query: str) -> KeysetPage:
    """The orders with a policy, newest policy first: read from the seller's policies (index
    policy_newest), so the uninsured orders in between cost nothing. An order with several
    insured lines is listed once, by its first policy."""
    policies = Policy.objects.filter(seller=request.seller).exclude(
        Exists(
            Policy.objects.filter(
                order_line__order_id=OuterRef("order_line__order_id"), pk__lt=OuterRef("pk")
            )
        )
    )
    if query:
        policies = policies.filter(order_line__order__number=query)
    if state:
        policies = policies.filter(order_line__order__state=state)

    def orders(rows: list[Policy]) -> list[Order]:
        found = orders_for_seller(request.seller).in_bulk([p.order_line.order_id for p in rows])
        return [found[p.order_line.order_id] for p in rows]

    policies = policies.select_related("order_line")
    return keyset_page(policies, request.GET, keys=("issued_at", "pk"), size=PAGE_SIZE, show=orders)


@seller_required
@require_GET
def seller_orders(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    insured = request.GET.get("insured") == "1"
    query = request.GET.get("q", "").strip()
    if state not in OrderState.values:
        state = ""
    if insured:
        page = _insured_orders_page(request, state=state, query=query)
    else:
        orders = orders_for_seller(request.seller)
        if query:
            orders = orders.filter(number=query)
        if state:
            orders = orders.filter(state=state)
        page = keyset_page(orders, request.GET, size=PAGE_SIZE)
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
