"""The seller's catalog: prices and coupons, with the open policies each SKU carries, and — before
a lower price or a coupon on a covered SKU is saved — what it would trigger (此次改价将触发 N 份
保单理赔,预计赔付 ¥X), to confirm first."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from claims.selectors import coupon_liability, price_change_liability
from claims.summaries.read import open_policies_by_spec
from core.errors import ServiceError
from core.money import format_fen
from shops.selectors import coupons_for_seller, skus_for_seller
from shops.services import coupon_issue, sku_price_change
from web.access import seller_required
from web.seller.forms import CouponForm, SkuPriceForm


@dataclass
class PendingChange:
    """A change waiting for the seller's confirmation, and what it would trigger."""

    form: str  # "price" or "coupon"
    subject: str  # what changes, in a few words
    liability: dict[str, int]
    fields: dict[str, Any]  # the posted values, posted again with the confirmation


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "1"


def _price_post(request: HttpRequest, form: SkuPriceForm) -> HttpResponse | PendingChange | None:
    """Save a price (after confirmation, if it triggers claims); a refusal stays on the form."""
    sku, price = form.cleaned_data["sku"], form.cleaned_data["price"]
    if not _confirmed(request):
        liability = price_change_liability(prices=[(sku, price)])
        if liability["policies"]:
            subject = _("%(sku)s(%(shop)s):%(old)s → %(new)s") % {
                "sku": sku.listing.title,
                "shop": sku.listing.shop.name,
                "old": format_fen(sku.price_fen),
                "new": format_fen(price),
            }
            fields = {"sku": sku.pk, "price": request.POST.get("price", "")}
            return PendingChange("price", subject, liability, fields)
    try:
        sku_price_change(sku=sku, price_fen=price, actor=request.user)
    except ServiceError as error:
        form.add_service_error(error)
        return None
    messages.success(request, _("已修改「%(sku)s」的售价。") % {"sku": sku})
    return redirect("shops:catalog")


def _coupon_post(request: HttpRequest, form: CouponForm) -> HttpResponse | PendingChange | None:
    data = form.cleaned_data
    if not _confirmed(request):
        liability = coupon_liability(
            shop=data["shop"], amount_fen=data["amount"], min_spend_fen=data["min_spend"] or 0
        )
        if liability["policies"]:
            fields = {
                name: request.POST.get(name, "")
                for name in ("shop", "name", "amount", "min_spend", "valid_days")
            }
            subject = _("%(shop)s 全店券「%(name)s」:减 %(amount)s") % {
                "shop": data["shop"].name,
                "name": data["name"],
                "amount": format_fen(data["amount"]),
            }
            return PendingChange("coupon", subject, liability, fields)
    now = timezone.now()
    try:
        coupon = coupon_issue(
            shop=data["shop"],
            name=data["name"],
            amount_fen=data["amount"],
            min_spend_fen=data["min_spend"] or 0,
            valid_from=now,
            valid_until=now + timedelta(days=data["valid_days"]),
            actor=request.user,
        )
    except ServiceError as error:
        form.add_service_error(error)
        return None
    messages.success(request, _("已发放优惠券「%(name)s」。") % {"name": coupon.name})
    return redirect("shops:catalog")


@seller_required
@require_http_methods(["GET", "POST"])
def catalog(request: HttpRequest) -> HttpResponse:
    seller = request.seller
    price_form, coupon_form = SkuPriceForm(seller=seller), CouponForm(seller=seller)
    status, outcome = 200, None
    if request.method == "POST" and request.POST.get("form") == "price":
        price_form = SkuPriceForm(request.POST, seller=seller)
        if price_form.is_valid():
            outcome = _price_post(request, price_form)
        elif "sku" in price_form.errors:  # not one of this seller's SKUs
            raise Http404
    elif request.method == "POST" and request.POST.get("form") == "coupon":
        coupon_form = CouponForm(request.POST, seller=seller)
        if coupon_form.is_valid():
            outcome = _coupon_post(request, coupon_form)
    if isinstance(outcome, HttpResponse):
        return outcome
    if request.method == "POST" and outcome is None:
        status = 400
    return _render(request, seller, price_form, coupon_form, warning=outcome, status=status)


def _render(
    request, seller, price_form, coupon_form, *, warning: PendingChange | None, status: int
) -> HttpResponse:
    exposure = open_policies_by_spec(seller)
    skus = list(skus_for_seller(seller).select_related("listing__product"))
    for sku in skus:
        sku.open_policies = exposure.get((sku.listing.product_id, sku.specs_key))
    errored_sku = price_form.data.get("sku") if price_form.is_bound and price_form.errors else None
    return render(
        request,
        "seller/catalog.html",
        {
            "skus": skus,
            "price_form": price_form,
            "errored_sku": str(errored_sku or ""),
            "coupon_form": coupon_form,
            "coupons": coupons_for_seller(seller)[:50],
            "warning": warning,
            "now": timezone.now(),
            "section": "seller_catalog",
        },
        status=status,
    )
