"""The insurer's review queue. Staff decide claims only through the actions below, which call
claims.services; the change page explains the decision check by check."""

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from claims import rules, services
from claims.admin_report import loss_report, turnaround_report  # and the policy admin with claims
from claims.models import Claim, ClaimState, Payout, ReconciliationRun
from claims.selectors import CLAIM_INSURER, PAYOUT_INSURER
from core.admin import (
    AuditHistoryMixin,
    DomainAdmin,
    LedgerAdmin,
    admin_link,
    fen_column,
    related_column,
)
from core.errors import ServiceError
from core.money import format_fen
from core.selectors import audit_history
from insurance.admin import INSURER_FILTER, InsurerFenced
from insurance.selectors import insurer_ids_of
from orders.models import Order, OrderLine
from orders.selectors import order_by_number

# A check's result, not a claim's state: in English a check "failed", a claim is "rejected".
RESULT_LABELS = {
    rules.PASSED: pgettext_lazy("check result", "通过"),
    rules.FAILED: pgettext_lazy("check result", "未通过"),
    rules.SKIPPED: pgettext_lazy("check result", "未检查"),
}


class ClaimStateFilter(admin.SimpleListFilter):
    """The state filter, with the review queue first."""

    title = _("状态")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        others = [(value, label) for value, label in ClaimState.choices if value != ClaimState.IN_REVIEW]
        return [(ClaimState.IN_REVIEW, _("待人工审核")), *others]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() in ClaimState.values:
            return queryset.filter(state=self.value())
        return queryset


class ReviewReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("审核意见"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=2_000,
        help_text=_("买家和商家都会看到这条意见,并记入审计记录。"),
    )


def _line_value(get: Callable[[OrderLine], Any]) -> Callable[[Order, OrderLine | None], Any]:
    return lambda _order, line: "—" if line is None else get(line)


# The staff comparison, row by row: what is shown (for the insured order and each evidence line
# alike), and the check (with the part of it, for checks that compare several) whose result marks
# the evidence cell ✓ or ✗. The marks come from the same checks that decide the claim.
COMPARISON_ROWS: list[tuple[Any, Callable[[Order, OrderLine | None], Any], str | None, str | None]] = [
    (_("订单号"), lambda o, _l: admin_link(o, o.number), "evidence_is_original", None),
    (_("订单状态"), lambda o, _l: o.get_state_display(), None, None),
    (_("买家"), lambda o, _l: o.buyer.get_username(), "evidence_other_account", None),
    (_("收货人"), lambda o, _l: o.ship_recipient, "evidence_address_mismatch", "recipient"),
    (_("手机号码"), lambda o, _l: o.ship_phone, "evidence_address_mismatch", "phone"),
    (_("收货地址"), lambda o, _l: o.ship_address, "evidence_address_mismatch", "address"),
    (_("下单时间"), lambda o, _l: timezone.localtime(o.created_at), "evidence_outside_window", None),
    (
        _("商品"),
        _line_value(lambda line: f"{line.sku.listing.product} · {line.sku.listing.shop}"),
        "evidence_sku_mismatch",
        "product",
    ),
    (_("SKU 规格"), _line_value(lambda line: line.sku.specs_key), "evidence_sku_mismatch", None),
    (_("数量"), _line_value(lambda line: line.quantity), "evidence_quantity_mismatch", None),
    (_("商品总价"), _line_value(lambda line: format_fen(line.item_total_fen)), None, None),
    (_("店铺优惠"), _line_value(lambda line: format_fen(line.shop_discount_fen)), None, None),
    (_("平台及达人优惠"), _line_value(lambda line: format_fen(line.platform_discount_fen)), None, None),
    (_("实付款"), _line_value(lambda line: format_fen(line.paid_fen)), "no_price_drop", None),
]


def _mark(checks: dict[str, dict[str, Any]], code: str | None, part: str | None) -> bool | None:
    """A cell's ✓/✗: its check's result; for one part of a check that compares several, whether
    that part differed. No mark when the check did not run (skipped, or not about this row)."""
    check = checks.get(code)
    if check is None or check["result"] == rules.SKIPPED:
        return None
    if check["result"] == rules.PASSED:
        return True
    differs = check["params"].get("differs")
    return part is not None and part not in (differs if isinstance(differs, list) else [differs])


def _order_comparison(claim: Claim) -> dict[str, Any]:
    """The insured order line beside each line of the evidence order, field by field, each
    evidence cell marked by the evidence check that compares it (``rules.evidence_hints``)."""
    line: OrderLine = claim.policy.order_line
    evidence = claim.evidence_order or order_by_number(claim.evidence_order_number)
    columns: list[tuple[Order, OrderLine | None, dict[str, dict[str, Any]]]] = []
    if evidence is not None:
        lines = list(evidence.lines.select_related("sku__listing__shop", "sku__listing__product"))
        for ev_line in lines:
            ev_line.order = evidence
            hints = rules.evidence_hints(line, ev_line, claim.policy, claimant_id=claim.buyer_id)
            columns.append((evidence, ev_line, {check["code"]: check for check in hints}))
        columns = columns or [(evidence, None, {})]
    rows = [
        {
            "label": label,
            "insured": value(line.order, line),
            "cells": [
                {"value": value(ev_order, ev_line), "agrees": _mark(checks, code, part)}
                for ev_order, ev_line, checks in columns
            ],
        }
        for label, value, code, part in COMPARISON_ROWS
    ]
    return {"rows": rows, "columns": len(columns), "evidence_number": claim.evidence_order_number}


@admin.register(Claim)
class ClaimAdmin(InsurerFenced, AuditHistoryMixin, DomainAdmin):
    insurer_path = CLAIM_INSURER
    list_display = (
        "number",
        "state",
        "filed_at",
        "buyer_link",
        "policy_link",
        "insurer_link",
        "compensation",
        "review_summary",
        "decided_by_link",
        "decided_at",
    )
    list_filter = (ClaimStateFilter, (CLAIM_INSURER, INSURER_FILTER), "filed_at")
    list_select_related = ("buyer", "policy__insurer", "decided_by")
    search_fields = (
        "=number",
        "=evidence_order_number",
        "=policy__number",
        "=policy__order_line__order__number",
        "buyer__username",
    )
    date_hierarchy = "filed_at"
    actions = ("approve_claims", "reject_claims", "readjudicate_claims", "settle_claims")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "state",
                    "policy_link",
                    "insurer_link",
                    "buyer_link",
                    "evidence_order_number",
                    "filed_at",
                    "decided_at",
                    "decided_by_link",
                    "decision_reason",
                )
            },
        ),
        # What a reviewer decides on comes first: why it is here, then the two orders side by
        # side, with the decision buttons right under them (change_form.html).
        (_("转人工原因"), {"fields": ("review_reasons_display",)}),
        (_("投保订单与举证订单"), {"fields": ("orders_display",), "classes": ("baojia-compare",)}),
        (_("赔付"), {"fields": ("compensation_display",)}),
        (_("判责明细"), {"fields": ("checks_display",)}),
        (_("审计记录"), {"fields": ("audit_history_display",)}),
    )

    buyer_link = related_column("buyer", _("买家"))
    policy_link = related_column("policy", _("保单"))
    insurer_link = related_column("policy__insurer", _("保险公司"))
    decided_by_link = related_column("decided_by", _("审核人"))
    compensation = fen_column("compensation_fen", _("赔付金额"))

    # The review queue (the state filter on 待人工审核): what a reviewer reads, all of it inside
    # 1280 px, the longest wait first.
    review_list_display = ("number", "buyer_link", "compensation", "review_summary", "waiting_since")

    @staticmethod
    def _is_review_queue(request: HttpRequest) -> bool:
        return request.GET.get(ClaimStateFilter.parameter_name) == ClaimState.IN_REVIEW

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return self.review_list_display if self._is_review_queue(request) else self.list_display

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return (
            ("review_started_at", "pk") if self._is_review_queue(request) else super().get_ordering(request)
        )

    # What one claim's page reads beside the claim: both orders, the listing, the campaign. The
    # queue joins only what its columns show (``list_select_related``): planning a fifteen-table
    # join took longer than running it (24 ms of 25 at 1,000,000 lines).
    detail_select_related = (
        "buyer",
        "decided_by",
        "policy__insurer",
        "policy__order_line__order__buyer",
        "policy__order_line__sku__listing__shop",
        "policy__order_line__sku__listing__product",
        "policy__order_line__campaign_item__campaign",
        "evidence_order__buyer",
    )

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Claim | None:
        queryset = self.get_queryset(request).select_related(*self.detail_select_related)
        field = Claim._meta.pk if from_field is None else Claim._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Claim.DoesNotExist, ValidationError, ValueError):
            return None

    # --- what the page shows ---------------------------------------------------------------

    @admin.display(description=_("转人工原因"))
    def review_summary(self, obj: Claim) -> str:
        return ";".join(rules.review_message(code) for code in obj.review_reasons) or "—"

    @admin.display(description=_("判责明细"))
    def checks_display(self, obj: Claim) -> str:
        checks = [
            {
                "code": check.get("code", ""),
                "result": check.get("result", ""),
                "result_label": RESULT_LABELS.get(check.get("result"), check.get("result")),
                "message": rules.check_message(check),
            }
            for check in obj.checks or []
        ]
        return render_to_string("admin/claims/claim/checks.html", {"checks": checks})

    @admin.display(description=_("等待自"), ordering="review_started_at")
    def waiting_since(self, obj: Claim) -> str:
        if obj.review_started_at is None:
            return "—"
        return format_html(
            "{}<br><small>{}</small>",
            date_format(timezone.localtime(obj.review_started_at), "SHORT_DATETIME_FORMAT"),
            _("已等待 %(time)s") % {"time": timesince(obj.review_started_at)},
        )

    @admin.display(description=_("转人工原因"))
    def review_reasons_display(self, obj: Claim) -> str:
        # The values each reason compared are kept with the decision that sent the claim here.
        compared: dict[str, Any] = {}
        for event in audit_history(obj).order_by("-pk"):
            if isinstance(event.data, dict) and "review" in event.data:
                compared = event.data["review"] or {}
                break
        reasons = [
            {"message": rules.review_message(code), "detail": rules.review_detail(code, compared.get(code))}
            for code in obj.review_reasons or []
        ]
        return render_to_string("admin/claims/claim/review_reasons.html", {"reasons": reasons})

    @admin.display(description=_("投保订单与举证订单"))
    def orders_display(self, obj: Claim) -> str:
        return render_to_string("admin/claims/claim/orders.html", _order_comparison(obj))

    @admin.display(description=_("赔付"))
    def compensation_display(self, obj: Claim) -> str:
        line = obj.policy.order_line
        policy = obj.policy
        payout = Payout.objects.filter(claim=obj).first()
        evidence_fen = None if obj.price_difference_fen is None else line.paid_fen - obj.price_difference_fen
        facts = [
            (_("原订单实付款"), format_fen(line.paid_fen)),
            (_("原订单已退款"), format_fen(line.refunded_fen)),
            (_("举证价格"), format_fen(evidence_fen)),
            (_("差价"), format_fen(obj.price_difference_fen)),
            (_("单次赔付上限"), format_fen(policy.per_claim_cap_fen)),
            (_("人工审核阈值"), format_fen(policy.review_threshold_fen)),
            (_("赔付金额"), format_fen(obj.compensation_fen)),
            (_("已赔付"), format_fen(payout.amount_fen if payout else None)),
            (_("已追回"), format_fen(payout.clawed_back_fen if payout else None)),
            (_("赔付时间"), timezone.localtime(obj.paid_at) if obj.paid_at else "—"),
        ]
        return render_to_string("admin/core/facts.html", {"facts": facts})

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("reports/loss/", view(partial(loss_report, self)), name="claims_report_loss"),
            path(
                "reports/turnaround/", view(partial(turnaround_report, self)), name="claims_report_turnaround"
            ),
            *super().get_urls(),
        ]

    # --- the review actions -----------------------------------------------------------------

    def _review(
        self,
        request: HttpRequest,
        queryset: QuerySet[Claim],
        *,
        decide: Callable[..., Claim],
        action: str,
        title: Any,
        done_message: Any,
    ) -> HttpResponse | None:
        """Ask for the reason on an intermediate page; then decide each claim through the
        service, reporting each refusal with its own message."""
        form = ReviewReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for claim in queryset:
                try:
                    decide(claim=claim, staff=request.user, reason=form.cleaned_data["reason"])
                except ServiceError as error:
                    self.message_user(request, f"{claim.number}: {error.message}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "claims": [(claim, format_fen(claim.compensation_fen)) for claim in queryset],
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/claims/claim/review_reason.html", context)

    @admin.action(description=_("人工审核:通过所选理赔(需填写审核意见)"), permissions=["change"])
    def approve_claims(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponse | None:
        return self._review(
            request,
            queryset,
            decide=services.claim_review_approve,
            action="approve_claims",
            title=_("通过理赔"),
            done_message=_("已通过 %(count)d 笔理赔,将在结算时赔付。"),
        )

    @admin.action(description=_("人工审核:驳回所选理赔(需填写审核意见)"), permissions=["change"])
    def reject_claims(self, request: HttpRequest, queryset: QuerySet[Claim]) -> HttpResponse | None:
        return self._review(
            request,
            queryset,
            decide=services.claim_review_reject,
            action="reject_claims",
            title=_("驳回理赔"),
            done_message=_("已驳回 %(count)d 笔理赔。"),
        )

    @admin.action(description=_("重新判责(仅限已提交、尚未判责的理赔)"), permissions=["change"])
    def readjudicate_claims(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        for claim in queryset:
            if claim.state != ClaimState.SUBMITTED:
                self.message_user(
                    request,
                    _("%(number)s: 只有已提交、尚未判责的理赔可以重新判责(当前:%(state)s)。")
                    % {"number": claim.number, "state": claim.get_state_display()},
                    messages.WARNING,
                )
                continue
            try:
                claim = services.claim_adjudicate(claim=claim)
            except ServiceError as error:
                self.message_user(request, f"{claim.number}: {error.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(number)s: 判责结果为“%(state)s”。")
                % {"number": claim.number, "state": claim.get_state_display()},
                messages.SUCCESS,
            )

    @admin.action(description=_("立即结算所有已通过的理赔"), permissions=["change"])
    def settle_claims(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        # Settlement pays every approved claim of the officer's insurers, not only the selected
        # ones: it is the same batch job the scheduler runs, started now.
        paid = services.claims_settle(insurer_ids=insurer_ids_of(request.user))
        self.message_user(request, _("已结算 %(count)d 笔已通过的理赔。") % {"count": paid}, messages.SUCCESS)


@admin.register(Payout)
class PayoutAdmin(InsurerFenced, LedgerAdmin):
    insurer_path = PAYOUT_INSURER
    list_display = (
        "claim_link",
        "amount",
        "clawed_back",
        "net",
        "insurer_link",
        "buyer_link",
        "transfer_link",
        "created_at",
    )
    list_filter = ((PAYOUT_INSURER, INSURER_FILTER),)
    list_select_related = ("claim__buyer", "claim__policy__insurer", "transfer")
    search_fields = ("=claim__number", "claim__buyer__username", "transfer__key")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "claim_link",
                    "insurer_link",
                    "buyer_link",
                    "amount",
                    "clawed_back",
                    "net",
                    "transfer_link",
                    "created_at",
                )
            },
        ),
    )

    claim_link = related_column("claim", _("理赔申请"))
    insurer_link = related_column("claim__policy__insurer", _("保险公司"))
    buyer_link = related_column("claim__buyer", _("买家"))
    transfer_link = related_column("transfer", _("资金流水"))
    amount = fen_column("amount_fen", _("赔付金额"))
    clawed_back = fen_column("clawed_back_fen", _("已追回"))
    net = fen_column("net_fen", _("净赔付"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payout]:
        return (
            super()
            .get_queryset(request)
            .select_related("claim__buyer", "claim__policy__insurer", "transfer")
            .annotate(net_fen=F("amount_fen") - F("clawed_back_fen"))
        )


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(LedgerAdmin):
    """When the money last added up: the daily beat run, `manage.py reconcile` and their findings."""

    list_display = ("started_at", "trigger", "ok", "discrepancy_count")
    list_filter = ("ok", "trigger")
    date_hierarchy = "started_at"
    fields = ("started_at", "finished_at", "trigger", "ok", "discrepancy_list")

    @admin.display(description=_("差异数"))
    def discrepancy_count(self, obj: ReconciliationRun) -> int:
        return obj.discrepancy_total

    @admin.display(description=_("差异"))
    def discrepancy_list(self, obj: ReconciliationRun) -> str:
        if not obj.discrepancies:
            return "—"
        return format_html(
            "{}<br>{}",
            obj.summary(),
            format_html_join(
                mark_safe("<br>"), "<code>{}</code> {}", ((d["code"], d["detail"]) for d in obj.discrepancies)
            ),
        )


from claims import admin_drops  # noqa: E402, F401 - registers the price-drop admin
