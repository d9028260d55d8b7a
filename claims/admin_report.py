"""What joins claims with insurance in the admin, so it lives here, above insurance: the policy
page with the policy's claims, and the insurer's report pages (hung on the claims admin's URLs):
loss ratio per campaign, seller, platform or insurer over a date range, and review turnaround;
each as a page and as CSV. Staff see only their own insurers' figures."""

import csv
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from claims import reports
from claims.models import Claim
from claims.summaries.refresh import last_refreshed
from core.admin import ReadOnlyInline, fen_column
from insurance.admin import PolicyAdmin
from insurance.models import Policy


class ClaimInline(ReadOnlyInline):
    model = Claim
    fields = ("number", "state", "evidence_order_number", "compensation", "filed_at", "decided_at")
    compensation = fen_column("compensation_fen", _("赔付金额"))


admin.site.unregister(Policy)


@admin.register(Policy)
class PolicyWithClaimsAdmin(PolicyAdmin):
    inlines = (*PolicyAdmin.inlines, ClaimInline)


class PeriodForm(forms.Form):
    first = forms.DateField(label=_("开始日期"), required=False, widget=AdminDateWidget)
    last = forms.DateField(label=_("结束日期"), required=False, widget=AdminDateWidget)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("first") and data.get("last") and data["first"] > data["last"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"), code="invalid_period")
        return data

    @property
    def period(self) -> reports.Period:
        return reports.Period(first=self.cleaned_data.get("first"), last=self.cleaned_data.get("last"))


class LossForm(PeriodForm):
    by = forms.ChoiceField(
        label=_("维度"),
        choices=[(key, dimension.label) for key, dimension in reports.DIMENSIONS.items()],
        required=False,
    )

    def clean_by(self) -> str:
        return self.cleaned_data.get("by") or "campaign"


def _csv(filename: str, lines: Iterable[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese as UTF-8
    csv.writer(response).writerows(lines)
    return response


def _page(
    model_admin: admin.ModelAdmin, request: HttpRequest, template: str, form: forms.Form, **context: Any
) -> TemplateResponse:
    query = request.GET.copy()
    query["format"] = "csv"
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "form": form,
            "csv_url": f"{request.path}?{query.urlencode()}",
            **context,
        },
        status=200 if form.is_valid() else 400,
    )


def loss_report(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = LossForm(request.GET)
    if not form.is_valid():
        return _page(model_admin, request, "admin/claims/report_loss.html", form, title=_("保费与赔付报表"))
    by = form.cleaned_data["by"]
    rows = reports.loss_rows(user=request.user, by=by, period=form.period)
    total = reports.loss_total(rows)
    label = reports.DIMENSIONS[by].label
    if request.GET.get("format") == "csv":
        return _csv(f"baojia-loss-{by}.csv", reports.loss_csv(label=label, rows=rows, total=total))
    return _page(
        model_admin,
        request,
        "admin/claims/report_loss.html",
        form,
        title=_("保费与赔付报表"),
        by=by,
        label=label,
        rows=rows,
        total=total,
        columns=reports.LOSS_COLUMNS,
        dimensions=[(key, d.label) for key, d in reports.DIMENSIONS.items()],
        figures_as_of=last_refreshed(),
    )


def turnaround_report(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = PeriodForm(request.GET)
    title = _("人工审核时效报表")
    if not form.is_valid():
        return _page(model_admin, request, "admin/claims/report_turnaround.html", form, title=title)
    rows = reports.turnaround_rows(user=request.user, period=form.period)
    total = reports.turnaround_total(rows)
    if request.GET.get("format") == "csv":
        return _csv("baojia-review-turnaround.csv", reports.turnaround_csv(rows=rows, total=total))
    return _page(
        model_admin,
        request,
        "admin/claims/report_turnaround.html",
        form,
        title=title,
        rows=rows,
        total=total,
        columns=reports.TURNAROUND_COLUMNS,
        backlog=reports.review_backlog(request.user),
    )
