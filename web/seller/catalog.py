"""The seller's catalog: prices and coupons, with the open policies each SKU carries."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import ServiceError
from insurance.selectors import open_policies_by_spec
from shops.selectors import coupons_for_seller, skus_for_seller
from shops.services import coupon_issue, sku_price_change
from web.access import seller_required
from web.seller.forms import CouponForm, SkuPriceForm


@seller_required
@require_http_methods(["GET", "POST"])
def catalog(request: HttpRequest) -> HttpResponse:
    seller = request.seller
    price_form = SkuPriceForm(seller=seller)
    coupon_form = CouponForm(seller=seller)
    status = 200
    if request.method == "POST" and request.POST.get("form") == "price":
        price_form = SkuPriceForm(request.POST, seller=seller)
        if price_form.is_valid():
            sku = price_form.cleaned_data["sku"]
            try:
                sku_price_change(sku=sku, price_fen=price_form.cleaned_data["price"], actor=request.user)
            except ServiceError as error:
                price_form.add_service_error(error)
            else:
                messages.success(request, _("已修改「%(sku)s」的售价。") % {"sku": sku})
                return redirect("shops:catalog")
        elif "sku" in price_form.errors:  # not one of this seller's SKUs
            raise Http404
        status = 400
    elif request.method == "POST" and request.POST.get("form") == "coupon":
        coupon_form = CouponForm(request.POST, seller=seller)
        if coupon_form.is_valid():
            data = coupon_form.cleaned_data
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
                coupon_form.add_service_error(error)
            else:
                messages.success(request, _("已发放优惠券「%(name)s」。") % {"name": coupon.name})
                return redirect("shops:catalog")
        status = 400
    exposure = open_policies_by_spec(seller)
    skus = list(skus_for_seller(seller).select_related("listing__product"))
    for sku in skus:
        sku.open_policies = exposure.get((sku.listing.product_id, sku.specs_key))
    errored_sku = price_form.data.get("sku") if price_form.is_bound else None
    return render(
        request,
        "seller/catalog.html",
        {
            "skus": skus,
            "price_form": price_form,
            "errored_sku": str(errored_sku or ""),
            "coupon_form": coupon_form,
            "coupons": coupons_for_seller(seller)[:50],
            "now": timezone.now(),
            "section": "seller_catalog",
        },
        status=status,
    )
