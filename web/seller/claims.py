"""The seller's claims (理赔), with each decision check by check."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from claims import rules
from claims.models import ClaimState
from claims.selectors import seller_claims_page
from web.access import seller_required
from web.claim_display import ClaimView, decision
from web.keyset import keyset_page

PAGE_SIZE = 20


@seller_required
@require_GET
def seller_claims(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in ClaimState.values:
        state = ""
    page = keyset_page(
        seller_claims_page(request.seller, state=state or None),
        request.GET,
        keys=("filed_at", "pk"),
        size=PAGE_SIZE,
    )
    rows = [
        ClaimView(
            claim=claim,
            checks=decision(claim),
            steps=[],
            review_reasons=[rules.review_message(r) for r in claim.review_reasons],
        )
        for claim in page.object_list
    ]
    tabs = [{"value": "", "label": _("全部"), "active": not state}] + [
        {"value": value, "label": label, "active": value == state} for value, label in ClaimState.choices
    ]
    return render(
        request,
        "seller/claims.html",
        {"page": page, "rows": rows, "tabs": tabs, "state": state, "section": "seller_claims"},
    )
