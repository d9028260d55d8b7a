"""The seller dashboard: what price protection costs, what it pays, what it earns, and the
switch that turns it on per campaign item."""

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alipay.models import AccountKind
from alipay.selectors import account_balance_fen
from claims.models import ClaimState
from claims.selectors import (
    seller_claim_counts,
    seller_claim_rates,
    seller_claims_per_day,
    seller_payout_totals,
)
from core.errors import ServiceError
from core.money import format_fen
from insurance import services
from insurance.models import Coverage, PolicyState
from insurance.selectors import (
    campaign_items_for_seller,
    coverage_effect,
    default_insurer,
    premiums_by_item,
    seller_exposure,
    seller_policy_counts,
    seller_premium_totals,
)
from orders.models import Campaign, CampaignItem, CampaignState
from orders.selectors import campaign_item_sales
from shops.selectors import shops_for_seller
from web.access import seller_required
from web.seller.forms import DepositForm, ExposureForm

DEFAULT_RATE_BP = Coverage._meta.get_field("premium_rate_bp").default
CHART_DAYS = 30
CAMPAIGN_ORDER = {
    CampaignState.LIVE: 0,
    CampaignState.SCHEDULED: 1,
    CampaignState.ENDED: 2,
    CampaignState.SETTLED: 3,
}


def _exposure_context(seller, drop: int) -> dict[str, Any]:
    return {"drop": drop, "exposure": seller_exposure(seller=seller, drop_bp=drop * 100)}


BRAND, BLUE, GREY, GREEN = "#ff5000", "#3d5afe", "#9e9e9e", "#12875a"


def _charts(seller) -> dict[str, Any]:
    """Chart.js configurations. Yuan are plain numbers here for the axis only: tables and KPIs
    show exact fen."""
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    per_day = seller_claims_per_day(seller=seller, since=since)
    days = [start + timedelta(days=n) for n in range(CHART_DAYS)]
    rates = list(seller_claim_rates(seller))
    effect = coverage_effect(seller)
    percent_axis = {"y": {"beginAtZero": True, "suggestedMax": 100, "ticks": {"precision": 0}}}
    return {
        "daily": {
            "type": "bar",
            "data": {
                "labels": [day.strftime("%m-%d") for day in days],
                "datasets": [
                    {
                        "label": _("理赔申请(笔)"),
                        "data": [per_day.get(day, {}).get("claims", 0) for day in days],
                        "backgroundColor": BRAND,
                        "yAxisID": "y",
                    },
                    {
                        "type": "line",
                        "label": _("赔付金额(元)"),
                        "data": [per_day.get(day, {}).get("paid_fen", 0) / 100 for day in days],
                        "borderColor": BLUE,
                        "backgroundColor": BLUE,
                        "yAxisID": "y1",
                        "tension": 0.3,
                    },
                ],
            },
            "options": {
                "scales": {
                    "y": {"beginAtZero": True, "position": "left", "ticks": {"precision": 0}},
                    "y1": {"beginAtZero": True, "position": "right", "grid": {"drawOnChartArea": False}},
                }
            },
        },
        "rates": {
            "type": "bar",
            "data": {
                "labels": [campaign.name for campaign in rates],
                "datasets": [
                    {
                        "label": _("申请理赔的保单占比(%)"),
                        "data": [_percent(c.claimed, c.policies) for c in rates],
                        "backgroundColor": BRAND,
                    },
                    {
                        "label": _("已赔付的保单占比(%)"),
                        "data": [_percent(c.paid, c.policies) for c in rates],
                        "backgroundColor": GREEN,
                    },
                ],
            },
            "options": {"scales": percent_axis},
        },
        "effect": {
            "type": "bar",
            "data": {
                "labels": [_("下单支付转化率(%)"), _("复购率(%)")],
                "datasets": [
                    {
                        "label": _("赠保价险商品"),
                        "data": [
                            effect["covered"]["conversion_bp"] / 100,
                            effect["covered"]["repeat_bp"] / 100,
                        ],
                        "backgroundColor": BRAND,
                    },
                    {
                        "label": _("未赠保价险商品"),
                        "data": [
                            effect["uncovered"]["conversion_bp"] / 100,
                            effect["uncovered"]["repeat_bp"] / 100,
                        ],
                        "backgroundColor": GREY,
                    },
                ],
            },
            "options": {"scales": percent_axis},
        },
        "effect_raw": effect,
        "rate_rows": rates,
    }


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0


def _dashboard(
    request: HttpRequest, *, deposit_form: DepositForm | None = None, status: int = 200
) -> HttpResponse:
    seller = request.seller
    claims = seller_claim_counts(seller)
    policies = seller_policy_counts(seller)
    campaigns = sorted(
        Campaign.objects.filter(seller=seller).exclude(state=CampaignState.SETTLED),
        key=lambda c: (CAMPAIGN_ORDER[c.state], c.ends_at),
    )
    context = {
        "shops": list(shops_for_seller(seller)),
        "campaigns": campaigns[:6],
        "deposit_fen": account_balance_fen(seller.user, AccountKind.DEPOSIT),
        "deposit_form": deposit_form or DepositForm(),
        "premiums": seller_premium_totals(seller),
        "payouts": seller_payout_totals(seller),
        "open_policies": policies.get(PolicyState.PENDING, 0) + policies.get(PolicyState.CLAIMABLE, 0),
        "all_policies": sum(policies.values()),
        "claims_total": sum(claims.values()),
        "claims_waiting": claims.get(ClaimState.SUBMITTED, 0) + claims.get(ClaimState.IN_REVIEW, 0),
        "claims_paid": claims.get(ClaimState.PAID, 0),
        "claims_rejected": claims.get(ClaimState.REJECTED, 0),
        "exposure_form": ExposureForm(),
        "charts": _charts(seller),
        "section": "seller_dashboard",
        "now": timezone.now(),
        **_exposure_context(seller, ExposureForm.base_fields["drop"].initial),
    }
    return render(request, "seller/dashboard.html", context, status=status)


@seller_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return _dashboard(request)


@seller_required
@require_GET
def exposure(request: HttpRequest) -> HttpResponse:
    """风险敞口: the payout if every covered price fell by the given percentage (htmx partial)."""
    form = ExposureForm(request.GET)
    drop = form.cleaned_data["drop"] if form.is_valid() else ExposureForm.base_fields["drop"].initial
    return render(
        request,
        "seller/_exposure.html",
        {"exposure_form": form, **_exposure_context(request.seller, drop)},
    )


@seller_required
@require_POST
def deposit(request: HttpRequest) -> HttpResponse:
    form = DepositForm(request.POST)
    if form.is_valid():
        try:
            services.deposit_top_up(
                seller=request.seller,
                amount_fen=form.cleaned_data["amount"],
                key=f"web:deposit:{request.user.pk}:{form.cleaned_data['key']}",
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, _("已缴纳保证金 %(amount)s。") % {"amount": format_fen(form.cleaned_data["amount"])}
            )
            return redirect("insurance:dashboard")
    return _dashboard(request, deposit_form=form, status=400)


# --- campaigns and the coverage switch -------------------------------------------------------


def _window_ends(campaign: Campaign, items: list[CampaignItem]) -> Any:
    days = [item.coverage.window_days for item in items if getattr(item, "coverage", None)]
    return campaign.ends_at + timedelta(days=max(days) if days else 15)


def _rows(items: list[CampaignItem], *, errors: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Each campaign item with its coverage terms, sales so far and what coverage costs at them."""
    ids = [item.pk for item in items]
    sales = campaign_item_sales(ids)
    premiums = premiums_by_item(ids)
    rows = []
    for item in items:
        coverage = getattr(item, "coverage", None)
        rate = coverage.premium_rate_bp if coverage else DEFAULT_RATE_BP
        sold = sales.get(item.pk, {"orders": 0, "pieces": 0, "sales_fen": 0})
        rows.append(
            {
                "item": item,
                "coverage": coverage,
                "enabled": bool(coverage and coverage.enabled),
                "rate_bp": rate,
                "window_days": coverage.window_days if coverage else 15,
                "sales": sold,
                "estimate_fen": services.premium_for(insured_fen=sold["sales_fen"], rate_bp=rate),
                "premium": premiums.get(item.pk, {"policies": 0, "premium_fen": 0}),
                "editable": item.campaign.state in (CampaignState.SCHEDULED, CampaignState.LIVE),
                "error": (errors or {}).get(item.pk, ""),
            }
        )
    return rows


@seller_required
@require_GET
def campaigns(request: HttpRequest) -> HttpResponse:
    items = list(campaign_items_for_seller(request.seller).select_related("sku__listing__product"))
    by_campaign: dict[int, list[CampaignItem]] = {}
    for item in items:
        by_campaign.setdefault(item.campaign_id, []).append(item)
    rows = {row["item"].pk: row for row in _rows(items)}
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
            "section": "seller_campaigns",
        },
    )


def _toggle(request: HttpRequest, item: CampaignItem) -> str:
    """Switch coverage as the posted checkbox says; return the refusal's message, if any."""
    seller = request.seller
    coverage = getattr(item, "coverage", None)
    try:
        if request.POST.get("enabled"):
            insurer = coverage.insurer if coverage else default_insurer()
            if insurer is None:
                return _("暂无可承保的保险公司,请联系平台。")
            terms: dict[str, Any] = {}
            if coverage is not None:
                terms = {
                    "premium_rate_bp": coverage.premium_rate_bp,
                    "window_days": coverage.window_days,
                    "per_claim_cap_fen": coverage.per_claim_cap_fen,
                    "review_threshold_fen": coverage.review_threshold_fen,
                }
            services.coverage_turn_on(campaign_item=item, insurer=insurer, seller=seller, **terms)
        elif coverage is not None:
            services.coverage_turn_off(coverage=coverage, seller=seller)
    except ServiceError as error:
        return error.message
    return ""


@seller_required
@require_http_methods(["POST"])
def coverage_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """The 赠送保价险 switch of one campaign item (htmx swaps the row; without JS, back to the list)."""
    item = get_object_or_404(campaign_items_for_seller(request.seller), pk=pk)
    error = _toggle(request, item)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("insurance:campaigns")
    item = campaign_items_for_seller(request.seller).select_related("sku__listing__product").get(pk=pk)
    (row,) = _rows([item], errors={item.pk: error} if error else None)
    return render(request, "seller/_item_row.html", {"row": row})
