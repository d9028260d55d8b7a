"""Insurers, coverage, policies and premiums; and the staff report of premiums against payouts."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import BigIntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, Payout
from core.admin import (
    AuditHistoryMixin,
    DomainAdmin,
    LedgerAdmin,
    ReadOnlyInline,
    date_column,
    fen_column,
    related_column,
    titled_filter,
)
from core.money import format_fen
from insurance.models import Coverage, Insurer, Policy, Premium, PremiumKind
from insurance.selectors import POLICY_INSURER, fenced
from orders.models import Campaign
from shops.models import Shop

AUDIT_FIELDSET = AuditHistoryMixin.AUDIT_FIELDSET
# The insurer filter offers only the insurers the user's rows belong to.
INSURER_FILTER = titled_filter(_("保险公司"), admin.RelatedOnlyFieldListFilter)


class InsurerFenced:
    """An admin whose rows belong to an insurer: staff see (and act on) only the rows of the
    insurers they work for, a superuser every row; another insurer's row is a 404.

    ``insurer_path`` is the lookup from a row to its insurer.
    """

    insurer_path: str

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return fenced(queryset, user=request.user, insurer_path=self.insurer_path)


@admin.register(Insurer)
class InsurerAdmin(InsurerFenced, DomainAdmin):
    insurer_path = "pk"
    list_display = ("name", "code")
    search_fields = ("name", "code")
    autocomplete_fields = ("staff",)
    fieldsets = ((None, {"fields": ("name", "code", "staff")}),)
    # The code names the insurer's Alipay account ("insurer:<code>"): it never changes.
    editable_fields = ("name", "staff")
    creatable_fields = ("name", "code", "staff")
    field_labels = {"staff": _("保险公司员工")}


@admin.register(Coverage)
class CoverageAdmin(InsurerFenced, AuditHistoryMixin, DomainAdmin):
    insurer_path = "insurer"
    list_display = (
        "campaign_item_link",
        "insurer_link",
        "enabled",
        "premium_rate_bp",
        "window_days",
        "per_claim_cap",
        "review_threshold",
        "turned_on_at",
    )
    list_filter = ("enabled", ("insurer", INSURER_FILTER))
    list_select_related = ("campaign_item__campaign", "campaign_item__sku__listing", "insurer")
    search_fields = ("campaign_item__campaign__name", "campaign_item__sku__listing__title", "insurer__name")
    date_hierarchy = "turned_on_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "campaign_item_link",
                    "insurer_link",
                    "enabled",
                    "premium_rate_bp",
                    "window_days",
                    "per_claim_cap",
                    "review_threshold",
                    "turned_on_at",
                    "turned_off_at",
                )
            },
        ),
        AUDIT_FIELDSET,
    )

    campaign_item_link = related_column("campaign_item", _("活动商品"))
    insurer_link = related_column("insurer", _("保险公司"))
    per_claim_cap = fen_column("per_claim_cap_fen", _("单次赔付上限"))
    review_threshold = fen_column("review_threshold_fen", _("人工审核阈值"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coverage]:
        return (
            super()
            .get_queryset(request)
            .select_related("campaign_item__campaign", "campaign_item__sku__listing", "insurer")
        )


class PremiumInline(ReadOnlyInline):
    model = Premium
    fields = ("kind", "amount", "transfer", "created")
    amount = fen_column("amount_fen", _("金额"))
    created = date_column("created_at", _("时间"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Premium]:
        return super().get_queryset(request).select_related("transfer")


class ClaimInline(ReadOnlyInline):
    model = Claim
    fields = ("number", "state", "evidence_order_number", "compensation", "filed_at", "decided_at")
    compensation = fen_column("compensation_fen", _("赔付金额"))


# --- the staff report -------------------------------------------------------------------------


def _sum_of(rows: QuerySet, group: str, field: str) -> Coalesce:
    """``SUM(field)`` of ``rows`` for the outer row, as a correlated subquery (0 when none).

    One subquery per figure keeps premiums and payouts from multiplying each other in a join.
    """
    total = rows.filter(**{group: OuterRef("pk")}).order_by().values(group).annotate(s=Sum(field)).values("s")
    return Coalesce(Subquery(total), Value(0), output_field=BigIntegerField())


# How each dimension reaches a premium and a payout.
DIMENSIONS: dict[str, tuple[type[models.Model], str, str, object]] = {
    "insurer": (Insurer, "policy__coverage__insurer", "claim__policy__coverage__insurer", _("保险公司")),
    "shop": (Shop, "policy__order_line__order__shop", "claim__policy__order_line__order__shop", _("店铺")),
    "campaign": (
        Campaign,
        "policy__coverage__campaign_item__campaign",
        "claim__policy__coverage__campaign_item__campaign",
        _("聚划算活动"),
    ),
}


@dataclass(frozen=True)
class ReportRow:
    name: str
    premiums_charged_fen: int
    premiums_refunded_fen: int
    payouts_fen: int
    clawbacks_fen: int

    @property
    def premiums_net_fen(self) -> int:
        return self.premiums_charged_fen - self.premiums_refunded_fen

    @property
    def payouts_net_fen(self) -> int:
        return self.payouts_fen - self.clawbacks_fen

    @property
    def loss_ratio(self) -> Decimal | None:
        """Net payouts ÷ net premiums, to four places; none when no premium was earned."""
        if self.premiums_net_fen <= 0:
            return None
        ratio = Decimal(self.payouts_net_fen) / Decimal(self.premiums_net_fen)
        return ratio.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    @property
    def loss_ratio_percent(self) -> str:
        ratio = self.loss_ratio
        return "—" if ratio is None else f"{(ratio * 100).quantize(Decimal('0.01'))}%"

    @property
    def cells(self) -> list[str]:
        """The figures as the report page shows them, in the order of its columns."""
        amounts = (
            self.premiums_charged_fen,
            self.premiums_refunded_fen,
            self.premiums_net_fen,
            self.payouts_fen,
            self.clawbacks_fen,
            self.payouts_net_fen,
        )
        return [*(format_fen(a) for a in amounts), self.loss_ratio_percent]


def _premiums(user) -> QuerySet[Premium]:
    return fenced(Premium.objects.all(), user=user, insurer_path=f"policy__{POLICY_INSURER}")


def _payouts(user) -> QuerySet[Payout]:
    return fenced(Payout.objects.all(), user=user, insurer_path=f"claim__policy__{POLICY_INSURER}")


def report_rows(dimension: str, *, user) -> list[ReportRow]:
    """Premiums and payouts per insurer, shop or campaign, of the insurers ``user`` works for:
    one SQL statement per dimension."""
    model, premium_path, payout_path, _label = DIMENSIONS[dimension]
    charges = _premiums(user).filter(kind=PremiumKind.CHARGE)
    refunds = _premiums(user).filter(kind=PremiumKind.REFUND)
    rows = (
        model.objects.annotate(
            charged=_sum_of(charges, premium_path, "amount_fen"),
            refunded=_sum_of(refunds, premium_path, "amount_fen"),
            paid_out=_sum_of(_payouts(user), payout_path, "amount_fen"),
            clawed=_sum_of(_payouts(user), payout_path, "clawed_back_fen"),
        )
        .filter(Q(charged__gt=0) | Q(refunded__gt=0) | Q(paid_out__gt=0))
        .order_by("pk")
    )
    if model is Campaign:
        rows = rows.select_related("seller")
    return [
        ReportRow(
            name=str(obj) if model is not Campaign else f"{obj.name}({obj.seller.name})",
            premiums_charged_fen=obj.charged,
            premiums_refunded_fen=obj.refunded,
            payouts_fen=obj.paid_out,
            clawbacks_fen=obj.clawed,
        )
        for obj in rows
    ]


def report_total(*, user) -> ReportRow:
    premiums = _premiums(user).aggregate(
        charged=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.CHARGE)), 0),
        refunded=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.REFUND)), 0),
    )
    payouts = _payouts(user).aggregate(
        paid_out=Coalesce(Sum("amount_fen"), 0), clawed=Coalesce(Sum("clawed_back_fen"), 0)
    )
    return ReportRow(
        name=str(_("合计")),
        premiums_charged_fen=premiums["charged"],
        premiums_refunded_fen=premiums["refunded"],
        payouts_fen=payouts["paid_out"],
        clawbacks_fen=payouts["clawed"],
    )


REPORT_COLUMNS = (
    _("保费收取"),
    _("退保保费"),
    _("净保费"),
    _("赔付"),
    _("追回"),
    _("净赔付"),
    _("赔付率(净赔付÷净保费)"),
)
CSV_HEADER = (
    _("维度"),
    _("名称"),
    _("保费收取(分)"),
    _("退保保费(分)"),
    _("净保费(分)"),
    _("赔付(分)"),
    _("追回(分)"),
    _("净赔付(分)"),
    _("赔付率"),
)


def _csv_lines(sections: list[tuple[str, object, list[ReportRow]]], total: ReportRow) -> Iterator[list]:
    yield [str(h) for h in CSV_HEADER]
    for _key, label, rows in [*sections, ("total", _("合计"), [total])]:
        for row in rows:
            yield [
                str(label),
                row.name,
                row.premiums_charged_fen,
                row.premiums_refunded_fen,
                row.premiums_net_fen,
                row.payouts_fen,
                row.clawbacks_fen,
                row.payouts_net_fen,
                "" if row.loss_ratio is None else str(row.loss_ratio),
            ]


# --- policies ---------------------------------------------------------------------------------


@admin.register(Policy)
class PolicyAdmin(InsurerFenced, AuditHistoryMixin, DomainAdmin):
    insurer_path = POLICY_INSURER
    list_display = (
        "number",
        "state",
        "insurer_link",
        "order_link",
        "buyer_link",
        "seller_link",
        "insured",
        "premium",
        "window_ends_at",
        "issued_at",
    )
    list_filter = ("state", (POLICY_INSURER, INSURER_FILTER))
    list_select_related = ("coverage__insurer", "order_line__order", "buyer", "seller")
    search_fields = ("=number", "=order_line__order__number", "buyer__username", "seller__name")
    date_hierarchy = "issued_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "state",
                    "insurer_link",
                    "coverage_link",
                    "order_link",
                    "order_line_link",
                    "buyer_link",
                    "seller_link",
                )
            },
        ),
        (_("金额"), {"fields": ("insured", "premium")}),
        (
            _("时间"),
            {
                "fields": (
                    "issued_at",
                    "window_starts_at",
                    "window_ends_at",
                    "claimable",
                    "claimed",
                    "voided",
                    "expired",
                )
            },
        ),
        AUDIT_FIELDSET,
    )
    inlines = (PremiumInline, ClaimInline)

    insurer_link = related_column("coverage__insurer", _("保险公司"))
    coverage_link = related_column("coverage", _("保价服务"))
    order_link = related_column("order_line__order", _("订单"))
    order_line_link = related_column("order_line", _("订单商品"))
    buyer_link = related_column("buyer", _("买家"))
    seller_link = related_column("seller", _("商家"))
    insured = fen_column("insured_fen", _("保险金额(实付款)"))
    premium = fen_column("premium_fen", _("保费"))
    claimable = date_column("claimable_at", _("可理赔时间"))
    claimed = date_column("claimed_at", _("理赔时间"))
    voided = date_column("voided_at", _("失效时间"))
    expired = date_column("expired_at", _("过期时间"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "coverage__insurer",
                "coverage__campaign_item__campaign",
                "coverage__campaign_item__sku__listing",
                "order_line__order",
                "order_line__sku__listing",
                "buyer",
                "seller",
            )
        )

    def get_urls(self) -> list:
        report = path(
            "report/",
            self.admin_site.admin_view(self.report_view),
            name="insurance_policy_report",
        )
        return [report, *super().get_urls()]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        sections = [(key, DIMENSIONS[key][3], report_rows(key, user=request.user)) for key in DIMENSIONS]
        total = report_total(user=request.user)
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="baojia-loss-report.csv"'
            response.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese as UTF-8
            csv.writer(response).writerows(_csv_lines(sections, total))
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("保费与赔付报表"),
            "opts": self.opts,
            "sections": sections,
            "total": total,
            "columns": REPORT_COLUMNS,
            "csv_url": f"{request.path}?format=csv",
        }
        return TemplateResponse(request, "admin/insurance/report.html", context)


@admin.register(Premium)
class PremiumAdmin(InsurerFenced, LedgerAdmin):
    insurer_path = f"policy__{POLICY_INSURER}"
    list_display = ("id", "policy_link", "kind", "amount", "insurer_link", "transfer_link", "created")
    list_filter = ("kind", (f"policy__{POLICY_INSURER}", INSURER_FILTER))
    list_select_related = ("policy__coverage__insurer", "transfer")
    search_fields = ("=policy__number", "transfer__key")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("policy_link", "kind", "amount", "transfer_link", "created")}),)

    policy_link = related_column("policy", _("保单"))
    insurer_link = related_column("policy__coverage__insurer", _("保险公司"))
    transfer_link = related_column("transfer", _("资金流水"))
    amount = fen_column("amount_fen", _("金额"))
    created = date_column("created_at", _("时间"))
