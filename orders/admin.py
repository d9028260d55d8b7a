"""Campaigns and orders. Their states, schedules and amounts move only through orders.services."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import (
    AuditHistoryMixin,
    DomainAdmin,
    ReadOnlyInline,
    date_column,
    fen_column,
    related_column,
    titled_filter,
)
from orders.models import Address, Campaign, CampaignItem, Order, OrderLine

AUDIT_FIELDSET = AuditHistoryMixin.AUDIT_FIELDSET


class CampaignItemInline(ReadOnlyInline):
    model = CampaignItem
    fields = ("sku_link", "campaign_price", "coverage_link")
    sku_link = related_column("sku", _("SKU"))
    campaign_price = fen_column("campaign_price_fen", _("活动价"))
    coverage_link = related_column("coverage", _("保价服务"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignItem]:
        return super().get_queryset(request).select_related("sku__listing", "coverage")


@admin.register(Campaign)
class CampaignAdmin(AuditHistoryMixin, DomainAdmin):
    list_display = (
        "name",
        "seller_link",
        "state",
        "starts_at",
        "ends_at",
        "excluded_from_claims",
        "item_count",
    )
    list_filter = ("state", "excluded_from_claims")
    list_select_related = ("seller",)
    search_fields = ("name", "seller__name")
    date_hierarchy = "starts_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "seller_link",
                    "state",
                    "starts_at",
                    "ends_at",
                    "excluded_from_claims",
                    "exclusion_note",
                )
            },
        ),
        AUDIT_FIELDSET,
    )
    # The schedule, the state and the exclusion decide claims already promised to buyers.
    editable_fields = ("name", "exclusion_note")
    inlines = (CampaignItemInline,)

    seller_link = related_column("seller", _("商家"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("活动商品数"), ordering="item_count")
    def item_count(self, obj: Campaign) -> int:
        return obj.item_count


@admin.register(CampaignItem)
class CampaignItemAdmin(AuditHistoryMixin, DomainAdmin):
    list_display = ("id", "campaign_link", "sku_link", "campaign_price", "coverage_on")
    list_filter = (
        "campaign__state",
        ("coverage__enabled", titled_filter(_("保价已开启"), admin.BooleanFieldListFilter)),
    )
    list_select_related = ("campaign", "sku__listing", "coverage")
    search_fields = ("campaign__name", "sku__listing__title", "sku__specs_key")
    date_hierarchy = "campaign__starts_at"
    fieldsets = (
        (None, {"fields": ("campaign_link", "sku_link", "campaign_price", "coverage_on")}),
        AUDIT_FIELDSET,
    )

    campaign_link = related_column("campaign", _("聚划算活动"))
    sku_link = related_column("sku", _("SKU"))
    campaign_price = fen_column("campaign_price_fen", _("活动价"))

    @admin.display(description=_("保价服务"), boolean=True)
    def coverage_on(self, obj: CampaignItem) -> bool | None:
        coverage = getattr(obj, "coverage", None)
        return None if coverage is None else coverage.enabled


@admin.register(Address)
class AddressAdmin(DomainAdmin):
    list_display = ("recipient", "phone", "region", "detail", "user_link", "created")
    list_select_related = ("user",)
    search_fields = ("recipient", "phone", "detail", "user__username")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("user_link", "recipient", "phone", "region", "detail", "created")}),)
    # Orders keep their own copy of the shipping information, so editing an address changes
    # no order and no claim.
    editable_fields = ("recipient", "phone", "region", "detail")

    user_link = related_column("user", _("买家"))
    created = date_column("created_at", _("创建时间"))


class LineMoneyColumns:
    """An order line's price breakdown, in ¥, for both the order's inline and the line's page."""

    unit_price = fen_column("unit_price_fen", _("单价"))
    item_total = fen_column("item_total_fen", _("商品总价"))
    shop_discount = fen_column("shop_discount_fen", _("店铺优惠"))
    platform_discount = fen_column("platform_discount_fen", _("平台及达人优惠"))
    paid = fen_column("paid_fen", _("实付款"))
    refunded = fen_column("refunded_fen", _("已退款"))


class OrderLineInline(LineMoneyColumns, ReadOnlyInline):
    model = OrderLine
    fields = (
        "sku_link",
        "specs",
        "quantity",
        "unit_price",
        "item_total",
        "shop_discount",
        "platform_discount",
        "paid",
        "refunded",
        "policy_link",
    )
    sku_link = related_column("sku", _("SKU"))
    policy_link = related_column("policy", _("保单"))

    @admin.display(description=_("规格"))
    def specs(self, obj: OrderLine) -> str:
        return obj.sku.specs_key

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("sku__listing", "policy")


@admin.register(Order)
class OrderAdmin(AuditHistoryMixin, DomainAdmin):
    list_display = (
        "number",
        "state",
        "buyer_link",
        "shop_link",
        "campaign_link",
        "paid",
        "created_at",
        "paid_at",
    )
    list_filter = (
        "state",
        "shop__platform",
        ("campaign", titled_filter(_("聚划算活动"), admin.EmptyFieldListFilter)),
    )
    list_select_related = ("buyer", "shop", "campaign")
    search_fields = ("=number", "buyer__username", "ship_recipient", "ship_phone")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "state",
                    "buyer_link",
                    "shop_link",
                    "campaign_link",
                    "created_at",
                    "pay_deadline",
                    "paid_at",
                    "shipped_at",
                    "succeeded_at",
                    "closed_at",
                    "refunded_at",
                )
            },
        ),
        (_("收货信息"), {"fields": ("ship_recipient", "ship_phone", "ship_address")}),
        (
            _("金额"),
            {
                "fields": (
                    "item_total",
                    "shop_coupon_link",
                    "shop_discount",
                    "platform_coupon_link",
                    "platform_discount",
                    "paid",
                )
            },
        ),
        AUDIT_FIELDSET,
    )
    inlines = (OrderLineInline,)

    buyer_link = related_column("buyer", _("买家"))
    shop_link = related_column("shop", _("店铺"))
    campaign_link = related_column("campaign", _("聚划算活动"))
    shop_coupon_link = related_column("shop_coupon", _("店铺优惠券"))
    platform_coupon_link = related_column("platform_coupon", _("平台优惠券"))
    item_total = fen_column("item_total_fen", _("商品总价"))
    shop_discount = fen_column("shop_discount_fen", _("店铺优惠"))
    platform_discount = fen_column("platform_discount_fen", _("平台优惠"))
    paid = fen_column("paid_fen", _("实付款"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return (
            super()
            .get_queryset(request)
            .select_related("buyer", "shop", "campaign", "shop_coupon", "platform_coupon")
        )


@admin.register(OrderLine)
class OrderLineAdmin(LineMoneyColumns, DomainAdmin):
    list_display = (
        "id",
        "order_link",
        "sku_link",
        "quantity",
        "unit_price",
        "paid",
        "refunded",
        "policy_link",
    )
    list_filter = (
        "order__state",
        ("campaign_item", titled_filter(_("聚划算商品"), admin.EmptyFieldListFilter)),
    )
    list_select_related = ("order", "sku__listing", "policy")
    search_fields = ("=order__number", "sku__listing__title")
    date_hierarchy = "order__created_at"
    fieldsets = (
        (None, {"fields": ("order_link", "sku_link", "campaign_item_link", "quantity", "policy_link")}),
        (
            _("金额"),
            {
                "fields": (
                    "unit_price",
                    "item_total",
                    "shop_discount",
                    "platform_discount",
                    "paid",
                    "refunded",
                )
            },
        ),
    )

    order_link = related_column("order", _("订单"))
    sku_link = related_column("sku", _("SKU"))
    campaign_item_link = related_column("campaign_item", _("活动商品"))
    policy_link = related_column("policy", _("保单"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "order", "sku__listing", "policy", "campaign_item__campaign", "campaign_item__sku__listing"
            )
        )
