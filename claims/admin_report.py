"""The staff report of premiums against payouts (per insurer, shop and campaign, with CSV), and
the policy admin with the policy's claims: both join claims with insurance, so they live here,
above insurance, which knows nothing of claims."""

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
from core.admin import ReadOnlyInline, fen_column
from core.money import format_fen
from insurance.admin import PolicyAdmin, PremiumInline
from insurance.models import Insurer, Policy, Premium, PremiumKind
from orders.models import Campaign
from shops.models import Shop


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


def report_rows(dimension: str) -> list[ReportRow]:
    """Premiums and payouts per insurer, shop or campaign: one SQL statement per dimension."""
    model, premium_path, payout_path, _label = DIMENSIONS[dimension]
    charges = Premium.objects.filter(kind=PremiumKind.CHARGE)
    refunds = Premium.objects.filter(kind=PremiumKind.REFUND)
    rows = (
        model.objects.annotate(
            charged=_sum_of(charges, premium_path, "amount_fen"),
            refunded=_sum_of(refunds, premium_path, "amount_fen"),
            paid_out=_sum_of(Payout.objects.all(), payout_path, "amount_fen"),
            clawed=_sum_of(Payout.objects.all(), payout_path, "clawed_back_fen"),
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


def report_total() -> ReportRow:
    premiums = Premium.objects.aggregate(
        charged=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.CHARGE)), 0),
        refunded=Coalesce(Sum("amount_fen", filter=Q(kind=PremiumKind.REFUND)), 0),
    )
    payouts = Payout.objects.aggregate(
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


admin.site.unregister(Policy)


@admin.register(Policy)
class PolicyWithClaimsAdmin(PolicyAdmin):
    inlines = (PremiumInline, ClaimInline)

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
        sections = [(key, DIMENSIONS[key][3], report_rows(key)) for key in DIMENSIONS]
        total = report_total()
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
