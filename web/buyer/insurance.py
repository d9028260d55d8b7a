"""The 保险服务 panel of an order (policy, claim window, 申请理赔, the decision check by check,
the claim's timeline until the money arrives) and the order details page that holds it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from claims import rules
from claims.models import ACTIVE_STATES, Claim, ClaimState
from claims.selectors import claims_for_policies, evidence_candidates
from claims.services import claim_file as claim_file_service
from core.errors import ServiceError
from core.models import AuditEvent
from core.selectors import audit_histories, audit_history
from insurance.models import Policy, PolicyState
from insurance.selectors import policies_for_lines
from orders.models import Order, OrderLine, OrderState
from orders.selectors import order_lines_with_product, orders_for_buyer
from web.buyer.forms import ClaimForm
from web.claim_display import ClaimView, decision

# What each step of a claim's audit history means to the people reading it.
TIMELINE_LABELS = {
    "claim_file": _("提交理赔申请"),
    "claim_adjudicate": _("系统判责"),
    "claim_review": _("保险公司人工审核"),
    "claim_settle": _("赔款已打入支付宝余额"),
    "claim_reject_refund": _("原订单退款,理赔关闭"),
    "claim_reduce_refund": _("原订单部分退款,赔付金额调整"),
    "payout_clawback": _("订单退款,理赔款追回"),
}
ORDER_STEPS = {
    "order_place": pgettext_lazy("order history", "提交订单"),
    "order_pay": _("付款成功(支付宝担保交易)"),
    "order_ship": _("卖家已发货"),
    "order_confirm": _("确认收货,交易成功"),
    "order_cancel": _("买家取消订单"),
    "order_close_unpaid": _("超时未付款,交易关闭"),
    "order_refund": _("退款"),
    "order_line_refund": _("部分退款"),
}
# A check's result, not a claim's state: in English a check "failed", a claim is "rejected".


# Seconds between refreshes of the panel while the platform is still working on a claim.
POLL_SECONDS = {ClaimState.SUBMITTED: 2, ClaimState.APPROVED: 2, ClaimState.IN_REVIEW: 15}


def timeline(claim: Claim, events: list[AuditEvent]) -> list[dict[str, Any]]:
    steps = []
    for event in events:
        label = TIMELINE_LABELS.get(event.action, event.action)
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
    notices: list[str] = field(default_factory=list)

    @property
    def window(self) -> str:
        return self.policy.window_phase(self.now)

    @property
    def active(self) -> Claim | None:
        return next((c.claim for c in self.claims if c.claim.state in ACTIVE_STATES), None)

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
    def poll_seconds(self) -> int | None:
        waits = [POLL_SECONDS[c.claim.state] for c in self.claims if c.claim.state in POLL_SECONDS]
        return min(waits) if waits else None

    @property
    def url(self) -> str:
        return reverse("claims:panel", args=[self.order.number, self.line.pk])

    @property
    def file_url(self) -> str:
        return reverse("claims:file", args=[self.order.number, self.line.pk])


def _candidate_notes(candidate: OrderLine, line: OrderLine, policy: Policy) -> list[str]:
    """Why an evidence order would fail, said before the buyer files it."""
    notes = []
    if candidate.sku.specs_key != line.sku.specs_key:
        notes.append(str(_("规格不同")))
    if candidate.quantity != line.quantity:
        notes.append(str(_("数量不同")))
    if candidate.order.shipping_key != line.order.shipping_key:
        notes.append(str(_("收货信息不同")))
    if not policy.window_contains(candidate.order.created_at):
        notes.append(str(_("不在保价期内下单")))
    if candidate.paid_fen >= line.paid_fen:
        notes.append(str(_("价格未降低")))
    return notes


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
    now = timezone.now()
    panels = []
    for line in insured:
        line.order = order
        policy = policies[line.pk]
        views = [
            ClaimView(
                claim=claim,
                checks=decision(claim),
                steps=timeline(claim, histories.get(claim.pk, [])),
                review_reasons=[str(rules.REVIEW_MESSAGES.get(r, r)) for r in claim.review_reasons],
            )
            for claim in claims.get(policy.pk, [])
        ]
        options = candidates.get(line.pk, [])
        for candidate in options:
            candidate.notes = _candidate_notes(candidate, line, policy)
        panels.append(
            Panel(
                order=order,
                line=line,
                policy=policy,
                claims=views,
                candidates=options,
                form=forms.get(line.pk) or ClaimForm(auto_id=f"claim-{line.pk}-%s"),
                now=now,
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
                {"label": ORDER_STEPS.get(event.action, event.action), "at": event.created_at}
                for event in audit_history(order)
            ],
            "action_error": action_error,
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
@require_GET
def claim_panel(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """The panel alone, polled by htmx while the claim is being decided and paid."""
    order, line = _buyer_line(request, number, line_id)
    return _panel_response(request, order, line)
