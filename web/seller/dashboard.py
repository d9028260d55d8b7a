"""The seller dashboard: what price protection costs, what it pays and what it earns (the
coverage switch per campaign item is in web/seller/coverage.py)."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alipay.models import AccountKind
from alipay.selectors import account_balance_fen
from claims.models import ClaimState
from claims.selectors import seller_unclaimed_drops
from claims.summaries.read import (
    SellerFigures,
    coverage_effect,
    seller_claim_rates,
    seller_claims_per_day,
    seller_exposure,
)
from claims.summaries.refresh import last_refreshed
from core.errors import ServiceError
from core.money import format_fen
from insurance import services, terms
from insurance.models import PolicyState
from orders.models import Campaign, CampaignState
from shops.selectors import shops_for_seller
from web.access import seller_required
from web.seller.forms import DepositForm, ExposureForm

DEFAULT_RATE_BP = terms.DEFAULT_RATE_BP
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
PERCENT_AXIS = {"y": {"beginAtZero": True, "suggestedMax": 100, "ticks": {"precision": 0}}}


def _bar(labels: list, datasets: list[dict[str, Any]], scales: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bar", "data": {"labels": labels, "datasets": datasets}, "options": {"scales": scales}}


def _daily_chart(seller) -> dict[str, Any]:
    """Claims filed and yuan paid per day over the last CHART_DAYS days."""
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    per_day = seller_claims_per_day(seller=seller, since=start)
    days = [start + timedelta(days=n) for n in range(CHART_DAYS)]
    claims = {"label": _("理赔申请(笔)"), "backgroundColor": BRAND, "yAxisID": "y"}
    claims["data"] = [per_day.get(day, {}).get("claims", 0) for day in days]
    paid = {"type": "line", "label": _("赔付金额(元)"), "borderColor": BLUE, "backgroundColor": BLUE}
    paid |= {"yAxisID": "y1", "tension": 0.3}
    paid["data"] = [per_day.get(day, {}).get("paid_fen", 0) / 100 for day in days]
    scales = {
        "y": {"beginAtZero": True, "position": "left", "ticks": {"precision": 0}},
        "y1": {"beginAtZero": True, "position": "right", "grid": {"drawOnChartArea": False}},
    }
    return _bar([day.strftime("%m-%d") for day in days], [claims, paid], scales)


def _rates_chart(rates: list) -> dict[str, Any]:
    """Per campaign: the share of policies with a claim, and the share paid."""
    datasets = [
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
    ]
    return _bar([campaign.name for campaign in rates], datasets, PERCENT_AXIS)


def _effect_chart(effect: dict[str, Any]) -> dict[str, Any]:
    """Conversion and repurchase of covered items against uncovered ones."""
    datasets = [
        {
            "label": label,
            "data": _effect_bars(effect[group]),
            "backgroundColor": colour,
        }
        for group, label, colour in (
            ("covered", _("赠保价险商品"), BRAND),
            ("uncovered", _("未赠保价险商品"), GREY),
        )
    ]
    return _bar([_("下单支付转化率(%)"), _("复购率(%)")], datasets, PERCENT_AXIS)


def _charts(seller) -> dict[str, Any]:
    """Chart.js configurations. Yuan are plain numbers here for the axis only: tables and KPIs
    show exact fen."""
    rates = list(seller_claim_rates(seller))
    effect = coverage_effect(seller)
    return {
        "daily": _daily_chart(seller),
        "rates": _rates_chart(rates),
        "effect": _effect_chart(effect),
        "effect_raw": effect,
        "rate_rows": rates,
        # Detected but not claimed yet: the liability that has appeared (主动保价), read live.
        "unclaimed_drops": seller_unclaimed_drops(seller),
    }


def _effect_bars(group: dict[str, int]) -> list[float | None]:
    """Conversion and repeat rates as chart bars; a rate of no orders (or no buyers) is no bar,
    not a 0% that would read as a result."""
    return [
        group["conversion_bp"] / 100 if group["placed"] else None,
        group["repeat_bp"] / 100 if group["buyers"] else None,
    ]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0


def _dashboard(
    request: HttpRequest, *, deposit_form: DepositForm | None = None, status: int = 200
) -> HttpResponse:
    seller = request.seller
    figures = SellerFigures(seller)
    claims = figures.claim_counts()
    policies = figures.policy_counts()
    campaigns = sorted(
        Campaign.objects.filter(seller=seller).exclude(state=CampaignState.SETTLED),
        key=lambda c: (CAMPAIGN_ORDER[c.state], c.ends_at),
    )
    context = {
        "shops": list(shops_for_seller(seller)),
        "campaigns": campaigns[:6],
        "deposit_fen": account_balance_fen(seller.user, AccountKind.DEPOSIT),
        "deposit_form": deposit_form or DepositForm(),
        "premiums": figures.premium_totals(),
        "payouts": figures.payout_totals(),
        "figures_as_of": last_refreshed(),
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
