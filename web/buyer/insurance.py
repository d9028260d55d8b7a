"""The 保险服务 panel of an order (policy, claim window, 申请理赔, the decision check by check,
the claim's timeline until the money arrives) and the order details page that holds it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from claims import rules
from claims.models import ACTIVE_STATES, IN_FLIGHT_STATES, Claim, ClaimState, PriceDrop
from claims.price_claims import claim_file_from_drop
from claims.selectors import (
    claims_for_policies,
    evidence_candidates,
    evidence_claims,
    price_drops_for_buyer,
    price_drops_for_lines,
)
from claims.services import claim_file as claim_file_service
from core.errors import ServiceError
from core.models import AuditEvent
from core.selectors import audit_histories, audit_history
from insurance.models import Policy, PolicyState
from insurance.selectors import policies_for_lines
from orders.models import Order, OrderLine, OrderState
from orders.selectors import order_lines_with_product, orders_for_buyer
from web.buyer.forms import ClaimForm
from web.claim_display import ClaimView, action_label, decision
from web.templatetags.baojia_ui import state_class

# Seconds between refreshes of the panel while the platform is still working on a claim.
POLL_SECONDS = {ClaimState.SUBMITTED: 2, ClaimState.APPROVED: 2, ClaimState.IN_REVIEW: 15}


def timeline(events: list[AuditEvent]) -> list[dict[str, Any]]:
    steps = []
    for event in events:
        label = action_label(event.action)
        state = ClaimState(event.to_state).label if event.to_state in ClaimState.values else ""
        steps.append({"at": event.created_at, "label": label, "state": state, "to_state": event.to_state})
    return steps


@dataclass
class Panel:
    """Everything the 保险服务 panel of one insured order line shows."""

    order: Order
    line: OrderLine
    policy: Policy
    claims: list[ClaimView]
    candidates: list[OrderLine]
    form: ClaimForm
    now: datetime
    drop: PriceDrop | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def window(self) -> str:
        return self.policy.window_phase(self.now)

    @property
    def active(self) -> Claim | None:
        return next((c.claim for c in self.claims if c.claim.state in ACTIVE_STATES), None)

    @property
    def latest(self) -> ClaimView | None:
        """The claim the buyer reads first; earlier ones fold away (``earlier``)."""
        return self.claims[0] if self.claims else None

    @property
    def earlier(self) -> list[ClaimView]:
        return self.claims[1:]

    @property
    def in_flight(self) -> bool:
        active = self.active
        return active is not None and active.state in IN_FLIGHT_STATES

    @property
    def badge(self) -> tuple[str, str]:
        """The policy's badge: 理赔中 while a claim is being decided or paid, else its state."""
        if self.in_flight:
            return "text-bg-info", str(_("理赔中"))
        return state_class(self.policy.state, "policy"), self.policy.get_state_display()

    @property
    def counting_down(self) -> bool:
        """The window's clock matters only while the policy may still be claimed."""
        return self.policy.state not in (PolicyState.CLAIMED, PolicyState.VOIDED, PolicyState.EXPIRED)

    @property
    def review_hours(self) -> int:
        return settings.BAOJIA["REVIEW_EXPECTED_HOURS"]

    @property
    def can_file(self) -> bool:
        if self.window != "open" or self.active is not None:
            return False
        if self.policy.state == PolicyState.CLAIMABLE:
            return True
        # The window sweep may not have opened a policy whose trade just succeeded.
        return self.policy.state == PolicyState.PENDING and self.order.state == OrderState.SUCCEEDED

    @property
    def show_form(self) -> bool:
        # A refused filing keeps its form on screen, so the refusal shows next to the field.
        return self.can_file or self.form.is_bound

    @property
    def why_not(self) -> str:
        policy = self.policy
        if policy.state == PolicyState.VOIDED:
            return _("订单已退款或关闭,保单已失效。")
        if policy.state == PolicyState.CLAIMED:
            return _("该保单已理赔,一笔订单的同一商品只能享受一次。")
        if self.active is not None:
            return _("理赔处理中,请稍候。")
        if policy.state == PolicyState.EXPIRED or self.window == "closed":
            return _("保价期已结束,不能再申请理赔。")
        if self.window == "before":
            return _("活动结束后开始保价,届时可申请理赔。")
        if self.order.state != OrderState.SUCCEEDED:
            return _("确认收货(交易成功)后可申请理赔。")
        return ""

    @property
    def can_one_click(self) -> bool:
        """一键理赔: a detected drop, and nothing stands in the way of filing."""
        return self.drop is not None and self.can_file

    @property
    def one_click_url(self) -> str:
        return reverse("claims:one_click", args=[self.order.number, self.line.pk])

    @property
    def poll_seconds(self) -> int | None:
        waits = [POLL_SECONDS[c.claim.state] for c in self.claims if c.claim.state in POLL_SECONDS]
        return min(waits) if waits else None

    @property
    def url(self) -> str:
        return reverse("claims:panel", args=[self.order.number, self.line.pk])

    @property
    def file_url(self) -> str:
        return reverse("claims:file", args=[self.order.number, self.line.pk])


def insurance_panels(
    request: HttpRequest, order: Order, lines: list[OrderLine], *, forms: dict[int, ClaimForm] | None = None
) -> list[Panel]:
    """The panels of an order's insured lines, in a fixed number of queries."""
    forms = forms or {}
    policies = policies_for_lines(line.pk for line in lines)
    insured = [line for line in lines if line.pk in policies]
    if not insured:
        return []
    claims = claims_for_policies(policy.pk for policy in policies.values())
    histories = audit_histories(Claim, [c.pk for found in claims.values() for c in found])
    candidates = evidence_candidates(buyer=request.user, lines=insured)
    drops = price_drops_for_lines(line.pk for line in insured)
    now = timezone.now()
    panels = []
    for line in insured:
        line.order = order
        policy = policies[line.pk]
        views = [
            ClaimView(
                claim=claim,
                checks=decision(claim),
                steps=timeline(histories.get(claim.pk, [])),
                # The buyer learns that a claim is in review and when to expect an answer,
                # never which internal rule sent it there (SPEC, fraud signals).
                review_reasons=[],
            )
            for claim in claims.get(policy.pk, [])
        ]
        options = candidates.get(line.pk, [])
        for candidate in options:
            # Why it would fail, said before filing: the same evidence checks that decide a claim.
            candidate.notes = rules.hint_notes(rules.evidence_hints(line, candidate, policy))
        panels.append(
            Panel(
                order=order,
                line=line,
                policy=policy,
                claims=views,
                candidates=options,
                form=forms.get(line.pk) or ClaimForm(auto_id=f"claim-{line.pk}-%s"),
                now=now,
                drop=drops.get(line.pk),
            )
        )
    return panels


def render_order_page(
    request: HttpRequest,
    order: Order,
    *,
    claim_forms: dict[int, ClaimForm] | None = None,
    action_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The order details page (订单详情) with its 保险服务 panels."""
    lines = list(order_lines_with_product([order.pk]))
    panels = insurance_panels(request, order, lines, forms=claim_forms)
    insured = {panel.line.pk: panel for panel in panels}
    for line in lines:
        line.panel = insured.get(line.pk)
    return render(
        request,
        "buyer/detail.html",
        {
            "order": order,
            "lines": lines,
            "panels": panels,
            "history": [
                {"label": action_label(event.action), "at": event.created_at}
                for event in audit_history(order)
            ],
            "action_error": action_error,
            # An unpaid order the buyer cited as evidence: it needs no payment, only cancelling.
            "evidence_claim": (
                evidence_claims(buyer=request.user, numbers=[order.number]).get(order.number)
                if order.state == OrderState.CREATED
                else None
            ),
            "now": timezone.now(),
            "section": "orders",
        },
        status=status,
    )


def _buyer_line(request: HttpRequest, number: str, line_id: int) -> tuple[Order, OrderLine]:
    order = get_object_or_404(orders_for_buyer(request.user), number=number)
    line = get_object_or_404(order_lines_with_product([order.pk]), pk=line_id)
    return order, line


def _panel_response(
    request: HttpRequest, order: Order, line: OrderLine, form: ClaimForm | None = None
) -> HttpResponse:
    panels = insurance_panels(request, order, [line], forms={line.pk: form} if form else None)
    if not panels:
        return HttpResponse(status=204)
    return render(request, "buyer/_panel.html", {"panel": panels[0]})


@login_required
@require_POST
def claim_file(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """申请理赔. A refusal shows next to the evidence field; the decision follows by polling."""
    order, line = _buyer_line(request, number, line_id)
    form = ClaimForm(request.POST, auto_id=f"claim-{line.pk}-%s")
    if form.is_valid():
        try:
            claim_file_service(
                order_line=line,
                evidence_order_number=form.cleaned_data["evidence_order_number"],
                buyer=request.user,
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            if request.htmx:
                return _panel_response(request, order, line)
            return redirect(f"{reverse('orders:detail', args=[order.number])}#insurance-{line.pk}")
    if request.htmx:
        return _panel_response(request, order, line, form)
    return render_order_page(request, order, claim_forms={line.pk: form}, status=400)


@login_required
@require_POST
def claim_one_click(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """一键理赔: file on the line's detected drop; the decision follows by polling."""
    order, line = _buyer_line(request, number, line_id)
    drop = get_object_or_404(price_drops_for_buyer(request.user), policy__order_line=line)
    try:
        claim_file_from_drop(drop=drop, buyer=request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    if request.htmx:
        return _panel_response(request, order, line)
    return redirect(f"{reverse('orders:detail', args=[order.number])}#insurance-{line.pk}")


@login_required
@require_GET
def claim_panel(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """The panel alone, polled by htmx while the claim is being decided and paid."""
    order, line = _buyer_line(request, number, line_id)
    return _panel_response(request, order, line)
