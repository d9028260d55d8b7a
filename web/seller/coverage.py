"""The seller's campaigns and the coverage switch per campaign item: the seller picks one of the
insurance products the insurers offer for the item (the default preselected) and switches it on.
The insurer's product sets the rate, window, cap and review threshold; the seller sets none."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from alipay.models import AccountKind
from alipay.selectors import account_balance_fen
from claims.summaries.read import campaign_item_sales, premiums_by_item
from claims.summaries.refresh import last_refreshed
from core.errors import ServiceError
from insurance import services, terms
from insurance.models import Coverage, InsuranceProduct
from insurance.selectors import campaign_items_for_seller, products_for_item, products_offered_to
from orders.models import Campaign, CampaignItem, CampaignState
from web.access import seller_required
from web.errors import refusal

CAMPAIGN_ORDER = {
    CampaignState.LIVE: 0,
    CampaignState.SCHEDULED: 1,
    CampaignState.ENDED: 2,
    CampaignState.SETTLED: 3,
}


def _window_ends(campaign: Campaign, items: list[CampaignItem]) -> Any:
    days = [item.coverage.window_days for item in items if getattr(item, "coverage", None)]
    return campaign.ends_at + timedelta(days=max(days) if days else terms.DEFAULT_WINDOW_DAYS)


def _choices(item: CampaignItem, offered: list[InsuranceProduct]) -> list[InsuranceProduct]:
    """What the row's product list shows: the offers, and the product coverage is on under even
    when the insurer no longer offers it (the coverage keeps it until the seller picks another)."""
    coverage = Coverage.on_for(item)
    if coverage is not None and coverage.product not in offered:
        return [coverage.product, *offered]
    return offered


def _rate(product: InsuranceProduct | None, item: CampaignItem) -> int | None:
    if product is None:
        return None
    listing = item.sku.listing
    return product.rate_for(platform=listing.shop.platform, category=listing.product.category)


def _row(
    item: CampaignItem, *, offered: list, sales: dict, premiums: dict, selected: Any, error: str
) -> dict:
    coverage = getattr(item, "coverage", None)
    choices = _choices(item, offered)
    # The product coverage is under while one can pick it; else the default offer (the first).
    current = coverage.product if coverage and coverage.product in choices else None
    product = selected or current or next(iter(offered), None)
    rate = _rate(product, item)
    sold = sales.get(item.pk, {"orders": 0, "pieces": 0, "sales_fen": 0})
    excluded = item.campaign.excluded_from_claims
    return {
        "item": item,
        "coverage": coverage,
        "enabled": Coverage.on_for(item) is not None,
        "choices": [{"product": p, "rate_bp": _rate(p, item), "offered": p in offered} for p in choices],
        "selected": product,
        "rate_bp": rate,
        "window_days": product.window_days if product else terms.DEFAULT_WINDOW_DAYS,
        "sales": sold,
        # A campaign excluded from claims pays no premium.
        "estimate_fen": 0
        if excluded or rate is None
        else services.premium_for(insured_fen=sold["sales_fen"], rate_bp=rate),
        "premium": premiums.get(item.pk, {"policies": 0, "premium_fen": 0}),
        "editable": item.campaign.state in (CampaignState.SCHEDULED, CampaignState.LIVE),
        "error": error,
    }


def _rows(
    seller: Any, items: list[CampaignItem], *, errors: dict | None = None, selected: dict | None = None
) -> list[dict[str, Any]]:
    """Each campaign item with the products offered for it, the selected product's terms, sales
    so far and what coverage costs at them."""
    ids = [item.pk for item in items]
    sales, premiums = campaign_item_sales(ids), premiums_by_item(ids)
    offers = products_offered_to(seller)
    return [
        _row(
            item,
            offered=products_for_item(seller=seller, campaign_item=item, offers=offers),
            sales=sales,
            premiums=premiums,
            selected=(selected or {}).get(item.pk),
            error=(errors or {}).get(item.pk, ""),
        )
        for item in items
    ]


@seller_required
@require_GET
def campaigns(request: HttpRequest) -> HttpResponse:
    items = list(campaign_items_for_seller(request.seller))
    by_campaign: dict[int, list[CampaignItem]] = {}
    for item in items:
        by_campaign.setdefault(item.campaign_id, []).append(item)
    rows = {row["item"].pk: row for row in _rows(request.seller, items)}
    groups = []
    for campaign in sorted(
        Campaign.objects.filter(seller=request.seller), key=lambda c: (CAMPAIGN_ORDER[c.state], c.ends_at)
    ):
        its = by_campaign.get(campaign.pk, [])
        groups.append(
            {
                "campaign": campaign,
                "rows": [rows[i.pk] for i in its],
                "window_ends_at": _window_ends(campaign, its),
            }
        )
    return render(
        request,
        "seller/campaigns.html",
        {
            "groups": groups,
            "deposit_fen": account_balance_fen(request.seller.user, AccountKind.DEPOSIT),
            "min_deposit_fen": settings.BAOJIA["MIN_DEPOSIT_FEN"],
            "now": timezone.now(),
            # Sales and premiums so far are read from the summaries (a rollup every 30 s).
            "figures_as_of": last_refreshed(),
            "section": "seller_campaigns",
        },
    )


def _posted_product(request: HttpRequest, item: CampaignItem) -> InsuranceProduct | None:
    """The product the form names, among the row's choices; None when it names none."""
    posted = request.POST.get("product", "")
    if not posted:
        return None
    offered = products_for_item(seller=request.seller, campaign_item=item)
    for product in _choices(item, offered):
        if str(product.pk) == posted:
            return product
    raise refusal("invalid_product")


def _toggle(request: HttpRequest, item: CampaignItem) -> tuple[str, InsuranceProduct | None]:
    """Switch coverage as the posted checkbox says, under the posted product; return the refusal's
    message, if any, and the product the seller picked."""
    seller = request.seller
    coverage = getattr(item, "coverage", None)
    product = None
    try:
        product = _posted_product(request, item)
        if request.POST.get("enabled"):
            services.coverage_turn_on(campaign_item=item, seller=seller, product=product)
        elif coverage is not None:
            services.coverage_turn_off(coverage=coverage, seller=seller)
    except ServiceError as error:
        return error.message, product
    return "", product


@seller_required
@require_http_methods(["POST"])
def coverage_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """The 赠送保价险 switch of one campaign item (htmx swaps the row; without JS, back to the list)."""
    item = get_object_or_404(campaign_items_for_seller(request.seller), pk=pk)
    error, product = _toggle(request, item)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("insurance:campaigns")
    item = campaign_items_for_seller(request.seller).get(pk=pk)
    (row,) = _rows(
        request.seller,
        [item],
        errors={item.pk: error} if error else None,
        selected={item.pk: product} if product else None,
    )
    return render(request, "seller/_item_row.html", {"row": row})
