"""Insurers, coverage, policies and premiums. A policy's claims and the report of premiums
against payouts join claims, so they live in claims/admin.py."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
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
from insurance.models import Coverage, Insurer, Policy, Premium

AUDIT_FIELDSET = AuditHistoryMixin.AUDIT_FIELDSET


@admin.register(Insurer)
class InsurerAdmin(DomainAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")
    autocomplete_fields = ("staff",)
    fieldsets = ((None, {"fields": ("name", "code", "staff")}),)
    # The code names the insurer's Alipay account ("insurer:<code>"): it never changes.
    editable_fields = ("name", "staff")
    creatable_fields = ("name", "code", "staff")
    field_labels = {"staff": _("保险公司员工")}


@admin.register(Coverage)
class CoverageAdmin(AuditHistoryMixin, DomainAdmin):
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
    list_filter = ("enabled", ("insurer", titled_filter(_("保险公司"))))
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


# --- policies ---------------------------------------------------------------------------------


@admin.register(Policy)
class PolicyAdmin(AuditHistoryMixin, DomainAdmin):
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
    list_filter = ("state", ("coverage__insurer", titled_filter(_("保险公司"))))
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
    inlines = (PremiumInline,)

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


@admin.register(Premium)
class PremiumAdmin(LedgerAdmin):
    list_display = ("id", "policy_link", "kind", "amount", "insurer_link", "transfer_link", "created")
    list_filter = ("kind", ("policy__coverage__insurer", titled_filter(_("保险公司"))))
    list_select_related = ("policy__coverage__insurer", "transfer")
    search_fields = ("=policy__number", "transfer__key")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("policy_link", "kind", "amount", "transfer_link", "created")}),)

    policy_link = related_column("policy", _("保单"))
    insurer_link = related_column("policy__coverage__insurer", _("保险公司"))
    transfer_link = related_column("transfer", _("资金流水"))
    amount = fen_column("amount_fen", _("金额"))
    created = date_column("created_at", _("时间"))
