"""Insurers and their products (保险产品), coverage, policies and premiums. Every row belongs to
an insurer, and staff see only their own insurers' rows. A policy's claims and the reports of
premiums against payouts join claims, so they live in claims/admin_report.py."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

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
from core.services import audit_record
from insurance.models import (
    Coverage,
    InsuranceAction,
    InsuranceProduct,
    Insurer,
    Policy,
    Premium,
    ProductRate,
    SellerDecision,
)
from insurance.selectors import POLICY_INSURER, fenced, insurers_of

AUDIT_FIELDSET = AuditHistoryMixin.AUDIT_FIELDSET


class InsurerListFilter(admin.RelatedFieldListFilter):
    """The insurers the user works for (every insurer for a superuser): the user's rows belong
    to no other, and the choices are read from the insurers, not from millions of rows."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[tuple[int, str]]:
        ordering = self.field_admin_ordering(field, request, model_admin) or ("name",)
        return [(insurer.pk, str(insurer)) for insurer in insurers_of(request.user).order_by(*ordering)]


INSURER_FILTER = titled_filter(_("保险公司"), InsurerListFilter)


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


class ProductRateForm(forms.ModelForm):
    class Meta:
        model = ProductRate
        fields = ("platform", "category", "rate_bp")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A rate's platform and category stay as they were: coverage turned on under a
            # platform's rate must find one when its policies are issued. Only the rate changes.
            for name in ("platform", "category"):
                self.fields[name].disabled = True

    def clean(self) -> dict:
        data = super().clean()
        if data.get("category") and not self.instance.pk:
            product = self.instance.product if self.instance.product_id else None
            platform_rates = (
                product.rates.filter(platform=data.get("platform"), category="") if product else None
            )
            if platform_rates is not None and not platform_rates.exists():
                raise forms.ValidationError(
                    _("请先设置该平台的通用费率(类目留空),类目费率只是在其基础上的调整。")
                )
        return data


class ProductRateInline(admin.TabularInline):
    model = ProductRate
    form = ProductRateForm
    extra = 1
    can_delete = False


class SellerDecisionInline(admin.TabularInline):
    model = SellerDecision
    fields = ("seller", "accepted", "note")
    autocomplete_fields = ("seller",)
    extra = 1
    can_delete = False


@admin.register(InsuranceProduct)
class InsuranceProductAdmin(InsurerFenced, AuditHistoryMixin, DomainAdmin):
    """Insurer staff publish and maintain their products here. A change applies to policies
    issued from then on; policies already issued keep the terms they were issued with."""

    insurer_path = "insurer"
    list_display = (
        "name",
        "insurer_link",
        "offered",
        "is_default",
        "rates_display",
        "window_days",
        "per_claim_cap",
        "review_threshold",
        "seller_acceptance",
        "updated_at",
    )
    list_filter = ("offered", ("insurer", INSURER_FILTER))
    list_select_related = ("insurer",)
    search_fields = ("name", "insurer__name")
    TERMS = ("window_days", "per_claim_cap_fen", "review_threshold_fen")
    RISK = (
        "steep_drop_bp",
        "brief_price_minutes",
        "shared_evidence_claims",
        "shared_evidence_hours",
        "new_account_burst_claims",
        "new_account_burst_hours",
    )
    fieldsets = (
        (None, {"fields": ("insurer_link", "name", "offered", "is_default", "seller_acceptance")}),
        (_("保险条款(新出保单适用)"), {"fields": TERMS}),
        (_("风控阈值(转人工审核)"), {"fields": RISK}),
        AuditHistoryMixin.AUDIT_FIELDSET,
    )
    add_fieldsets = (
        (None, {"fields": ("insurer", "name", "offered", "is_default", "seller_acceptance")}),
        (_("保险条款(新出保单适用)"), {"fields": TERMS}),
        (_("风控阈值(转人工审核)"), {"fields": RISK}),
    )
    editable_fields = ("name", "offered", "is_default", "seller_acceptance", *TERMS, *RISK)
    creatable_fields = ("insurer", *editable_fields)
    field_labels = {"insurer": _("保险公司")}
    inlines = (ProductRateInline, SellerDecisionInline)

    insurer_link = related_column("insurer", _("保险公司"))
    per_claim_cap = fen_column("per_claim_cap_fen", _("单次赔付上限"))
    review_threshold = fen_column("review_threshold_fen", _("人工审核阈值"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[InsuranceProduct]:
        return super().get_queryset(request).prefetch_related("rates")

    @admin.display(description=_("费率(万分之)"))
    def rates_display(self, obj: InsuranceProduct) -> str:
        return (
            ";".join(
                f"{rate.get_platform_display()}{f'/{rate.category}' if rate.category else ''} {rate.rate_bp}"
                for rate in obj.rates.all()
            )
            or "—"
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "insurer":
            kwargs["queryset"] = insurers_of(request.user)  # a product only for one's own insurer
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The admin wraps the whole save in one transaction: the audit row commits with it.
        changed = {
            "product": form.changed_data,
            **{
                fs.prefix: [str(obj) for obj in fs.new_objects + [o for o, _f in fs.changed_objects]]
                for fs in formsets
            },
        }
        audit_record(
            subject=form.instance,
            action=InsuranceAction.PRODUCT_CHANGE if change else InsuranceAction.PRODUCT_CREATE,
            actor=request.user,
            data={key: value for key, value in changed.items() if value},
        )


@admin.register(Coverage)
class CoverageAdmin(InsurerFenced, AuditHistoryMixin, DomainAdmin):
    insurer_path = "product__insurer"
    list_display = ("campaign_item_link", "product_link", "insurer_link", "enabled", "turned_on_at")
    list_filter = ("enabled", ("product__insurer", INSURER_FILTER))
    list_select_related = ("campaign_item__campaign", "campaign_item__sku__listing", "product__insurer")
    search_fields = ("campaign_item__campaign__name", "campaign_item__sku__listing__title", "product__name")
    date_hierarchy = "turned_on_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "campaign_item_link",
                    "product_link",
                    "insurer_link",
                    "enabled",
                    "turned_on_at",
                    "turned_off_at",
                )
            },
        ),
        AUDIT_FIELDSET,
    )

    campaign_item_link = related_column("campaign_item", _("活动商品"))
    product_link = related_column("product", _("保险产品"))
    insurer_link = related_column("product__insurer", _("保险公司"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coverage]:
        return (
            super()
            .get_queryset(request)
            .select_related("campaign_item__campaign", "campaign_item__sku__listing", "product__insurer")
        )


class PremiumInline(ReadOnlyInline):
    model = Premium
    fields = ("kind", "amount", "transfer", "created")
    amount = fen_column("amount_fen", _("金额"))
    created = date_column("created_at", _("时间"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Premium]:
        return super().get_queryset(request).select_related("transfer")


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
    list_select_related = ("insurer", "order_line__order", "buyer", "seller")
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
                    "product_link",
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
            _("保险条款(出单时确定,不再变化)"),
            {
                "fields": (
                    "premium_rate_bp",
                    "window_days",
                    "per_claim_cap",
                    "review_threshold",
                    "risk_display",
                )
            },
        ),
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
    inlines = (PremiumInline,)

    insurer_link = related_column("insurer", _("保险公司"))
    product_link = related_column("product", _("保险产品"))
    per_claim_cap = fen_column("per_claim_cap_fen", _("单次赔付上限"))
    review_threshold = fen_column("review_threshold_fen", _("人工审核阈值"))
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

    @admin.display(description=_("风控阈值"))
    def risk_display(self, obj: Policy) -> str:
        return render_to_string("admin/insurance/risk_thresholds.html", {"risk": obj.risk_thresholds})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "insurer",
                "product",
                "coverage__campaign_item__campaign",
                "coverage__campaign_item__sku__listing",
                "order_line__order",
                "order_line__sku__listing",
                "buyer",
                "seller",
            )
        )


@admin.register(Premium)
class PremiumAdmin(InsurerFenced, LedgerAdmin):
    insurer_path = f"policy__{POLICY_INSURER}"
    list_display = ("id", "policy_link", "kind", "amount", "insurer_link", "transfer_link", "created")
    list_filter = ("kind", (f"policy__{POLICY_INSURER}", INSURER_FILTER))
    list_select_related = ("policy__insurer", "transfer")
    search_fields = ("=policy__number", "transfer__key")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("policy_link", "kind", "amount", "transfer_link", "created")}),)

    policy_link = related_column("policy", _("保单"))
    insurer_link = related_column("policy__insurer", _("保险公司"))
    transfer_link = related_column("transfer", _("资金流水"))
    amount = fen_column("amount_fen", _("金额"))
    created = date_column("created_at", _("时间"))
