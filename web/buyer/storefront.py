"""The storefront: Juhuasuan campaigns and listings with their 赠保价险 badge, checkout with its
quote, and the buyer's new address. Every write is one call to a service.
"""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ServiceError
from core.numbers import id_or_none
from insurance.models import Coverage
from insurance.selectors import storefront_campaign_items
from orders import services
from orders.models import Campaign, CampaignItem, CampaignState
from orders.selectors import (
    campaigns_on_show,
)
from shops.models import Listing, Platform, Sku
from shops.selectors import storefront_listings
from web.buyer.forms import AddressForm, CheckoutForm


@dataclass
class Card:
    """One listing as the storefront shows it."""

    listing: Listing
    skus: list[Sku]
    live: list[CampaignItem] = field(default_factory=list)
    upcoming: list[CampaignItem] = field(default_factory=list)

    @property
    def price_fen(self) -> int:
        return min(sku.price_fen for sku in self.skus)

    @property
    def deal(self) -> CampaignItem | None:
        return min(self.live, key=lambda item: item.campaign_price_fen) if self.live else None

    @property
    def covered(self) -> CampaignItem | None:
        return next((item for item in self.live if Coverage.on_for(item)), None)

    @property
    def next_deal(self) -> CampaignItem | None:
        return min(self.upcoming, key=lambda item: item.campaign.starts_at) if self.upcoming else None


def _offers_by_sku(sku_ids: list[int]) -> dict[int, list[CampaignItem]]:
    offers: dict[int, list[CampaignItem]] = {}
    for item in (
        storefront_campaign_items().filter(sku_id__in=sku_ids).select_related("sku__listing__product")
    ):
        offers.setdefault(item.sku_id, []).append(item)
    return offers


def _cards(listings: list[Listing], now) -> list[Card]:
    offers = _offers_by_sku([sku.pk for listing in listings for sku in listing.skus.all()])
    cards = []
    for listing in listings:
        skus = sorted(listing.skus.all(), key=lambda sku: (sku.price_fen, sku.pk))
        if not skus:
            continue
        card = Card(listing=listing, skus=skus)
        for sku in skus:
            for item in offers.get(sku.pk, []):
                if item.campaign.is_live_at(now):
                    card.live.append(item)
                elif item.campaign.state == CampaignState.SCHEDULED:
                    card.upcoming.append(item)
        cards.append(card)
    # Juhuasuan deals first, then everything else in listing order.
    return sorted(cards, key=lambda card: card.deal is None)


@require_GET
def storefront(request: HttpRequest) -> HttpResponse:
    platform = request.GET.get("platform", "")
    if platform not in Platform.values:
        platform = ""
    now = timezone.now()
    listings = list(storefront_listings(platform=platform or None))
    return render(
        request,
        "buyer/storefront.html",
        {
            "cards": _cards(listings, now),
            "campaigns": list(campaigns_on_show()[:12]),
            "platforms": Platform.choices,
            "platform": platform,
            "now": now,
            "section": "storefront",
        },
    )


@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("seller"), pk=pk)
    items = list(
        CampaignItem.objects.filter(campaign=campaign)
        .select_related("sku__listing__shop", "sku__listing__product", "coverage")
        .order_by("campaign_price_fen", "pk")
    )
    for item in items:
        item.offer = Coverage.on_for(item)
    return render(
        request,
        "buyer/campaign.html",
        {"campaign": campaign, "items": items, "now": timezone.now(), "section": "storefront"},
    )


@require_GET
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("shop", "product"), pk=pk)
    now = timezone.now()
    card = next(iter(_cards([listing], now)), None)
    if card is None:
        raise Http404
    live = {item.sku_id: item for item in card.live}
    upcoming = {item.sku_id: item for item in card.upcoming}
    options = []
    for sku in card.skus:
        item = live.get(sku.pk)
        options.append(
            {"sku": sku, "item": item, "coverage": Coverage.on_for(item), "upcoming": upcoming.get(sku.pk)}
        )
    chosen = id_or_none(request.GET.get("sku"))
    if chosen not in {option["sku"].pk for option in options}:
        chosen = options[0]["sku"].pk
    return render(
        request,
        "buyer/listing.html",
        {
            "listing": listing,
            "card": card,
            "options": options,
            "chosen": chosen,
            "now": now,
            "section": "storefront",
        },
    )


def _checkout_form(request: HttpRequest, data: Any) -> tuple[CheckoutForm, Sku]:
    sku_id = id_or_none(data.get("sku"))
    if sku_id is None:
        raise Http404
    sku = get_object_or_404(Sku.objects.select_related("listing__shop", "listing__product"), pk=sku_id)
    form = CheckoutForm(data, buyer=request.user, sku=sku, now=timezone.now())
    return form, sku


def _quote_context(form: CheckoutForm, sku: Sku) -> dict[str, Any]:
    lines = form.quote() if form.is_valid() else None
    insured = []
    for line in lines or []:
        coverage = Coverage.on_for(line.campaign_item)
        if coverage is not None:
            insured.append({"line": line, "coverage": coverage, "campaign": line.campaign_item.campaign})
    totals = None
    if lines is not None:
        totals = {
            name: sum(getattr(line, f"{name}_fen") for line in lines)
            for name in ("item_total", "shop_discount", "platform_discount", "paid")
        }
    return {"form": form, "sku": sku, "lines": lines, "insured": insured, "totals": totals}


def _with_default_address(request: HttpRequest) -> Any:
    """GET parameters with the buyer's first address chosen when none is."""
    data = request.GET.copy()
    if not data.get("address"):
        first = request.user.addresses.order_by("pk").first()
        if first is not None:
            data["address"] = str(first.pk)
    data.setdefault("quantity", "1")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Confirm the order: SKU, quantity, address, coupons and the actual price; then place it."""
    if request.method == "POST":
        form, sku = _checkout_form(request, request.POST)
        context = _quote_context(form, sku)
        # A breakdown shown without a refused coupon is not what the buyer chose: no order.
        if context["lines"] is not None and not form.errors:
            data = form.cleaned_data
            try:
                order = services.order_place(
                    buyer=request.user,
                    address=data["address"],
                    items=[(data["sku"], data["quantity"])],
                    shop_coupon=data.get("shop_coupon"),
                    platform_coupon=data.get("platform_coupon"),
                )
            except ServiceError as error:
                form.add_service_error(error)
            else:
                messages.success(request, _("订单已提交,请在付款截止前付款。"))
                return redirect("orders:detail", number=order.number)
        status = 400
    else:
        form, sku = _checkout_form(request, _with_default_address(request))
        context = _quote_context(form, sku)
        status = 200
    context.update(
        {"address_form": AddressForm(), "section": "storefront", "checkout_query": request.GET.urlencode()}
    )
    return render(request, "buyer/checkout.html", context, status=status)


@login_required
@require_GET
def quote(request: HttpRequest) -> HttpResponse:
    """The price breakdown as the checkout form stands (htmx swaps it in as the buyer changes it)."""
    form, sku = _checkout_form(request, request.GET)
    return render(request, "buyer/_checkout_form.html", _quote_context(form, sku))


@login_required
@require_POST
def address_new(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("orders:mine")
    if form.is_valid():
        try:
            address = services.address_create(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("已添加收货地址。"))
            if next_url.startswith(reverse("orders:checkout")):
                # Back at checkout, the new address is the one chosen.
                query = QueryDict(urlsplit(next_url).query, mutable=True)
                query["address"] = str(address.pk)
                next_url = f"{reverse('orders:checkout')}?{query.urlencode()}"
            return redirect(next_url)
    return render(
        request, "buyer/address_form.html", {"form": form, "next": next_url, "section": "orders"}, status=400
    )
