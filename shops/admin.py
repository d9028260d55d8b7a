"""Sellers, shops and the catalog. Prices and coupon terms change only through shops.services."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import (
    AuditHistoryMixin,
    DomainAdmin,
    LedgerAdmin,
    date_column,
    fen_column,
    related_column,
    titled_filter,
)
from shops.models import CatalogProduct, Coupon, Listing, PriceRecord, Seller, Shop, Sku

CREATED = date_column("created_at", _("创建时间"))


@admin.register(Seller)
class SellerAdmin(DomainAdmin):
    list_display = ("name", "user_link", "created")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    fieldsets = ((None, {"fields": ("name", "user_link", "created")}),)
    add_fieldsets = ((None, {"fields": ("name", "user")}),)
    editable_fields = ("name",)
    creatable_fields = ("name", "user")
    field_labels = {"user": _("登录账号")}

    user_link = related_column("user", _("登录账号"))
    created = CREATED


@admin.register(Shop)
class ShopAdmin(DomainAdmin):
    list_display = ("name", "platform", "seller_link", "created")
    list_filter = ("platform",)
    list_select_related = ("seller",)
    search_fields = ("name", "seller__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("seller",)
    fieldsets = ((None, {"fields": ("name", "platform", "seller_link", "created")}),)
    add_fieldsets = ((None, {"fields": ("name", "platform", "seller")}),)
    editable_fields = ("name",)
    creatable_fields = ("name", "platform", "seller")
    field_labels = {"seller": _("商家")}

    seller_link = related_column("seller", _("商家"))
    created = CREATED


@admin.register(CatalogProduct)
class CatalogProductAdmin(DomainAdmin):
    list_display = ("brand", "model", "name", "category", "barcode")
    list_filter = ("brand", "category")
    search_fields = ("brand", "model", "name", "barcode")
    fieldsets = ((None, {"fields": ("brand", "model", "name", "category", "barcode")}),)
    # Brand, model and barcode decide what "the same product" is for claims already filed; the
    # category only prices policies issued from now on.
    editable_fields = ("name", "category")
    creatable_fields = ("brand", "model", "name", "category", "barcode")


@admin.register(Listing)
class ListingAdmin(DomainAdmin):
    list_display = ("title", "shop_link", "product_link", "created")
    list_filter = ("shop__platform",)
    list_select_related = ("shop", "product")
    search_fields = ("title", "shop__name", "product__brand", "product__model")
    date_hierarchy = "created_at"
    autocomplete_fields = ("shop", "product")
    fieldsets = ((None, {"fields": ("title", "shop_link", "product_link", "created")}),)
    add_fieldsets = ((None, {"fields": ("title", "shop", "product")}),)
    editable_fields = ("title",)
    creatable_fields = ("title", "shop", "product")
    field_labels = {"shop": _("店铺"), "product": _("标准商品")}

    shop_link = related_column("shop", _("店铺"))
    product_link = related_column("product", _("标准商品"))
    created = CREATED


@admin.register(Sku)
class SkuAdmin(AuditHistoryMixin, DomainAdmin):
    list_display = ("id", "listing_link", "shop_link", "specs_key", "price", "updated")
    list_filter = ("listing__shop__platform",)
    list_select_related = ("listing__shop",)
    search_fields = ("listing__title", "specs_key", "listing__shop__name")
    date_hierarchy = "updated_at"
    fieldsets = (
        (None, {"fields": ("listing_link", "shop_link", "specs", "specs_key", "price", "updated")}),
        (_("审计记录"), {"fields": ("audit_history_display",)}),
    )

    listing_link = related_column("listing", _("在售商品"))
    shop_link = related_column("listing__shop", _("店铺"))
    price = fen_column("price_fen", _("售价"))
    updated = date_column("updated_at", _("更新时间"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sku]:
        return super().get_queryset(request).select_related("listing__shop")


@admin.register(Coupon)
class CouponAdmin(AuditHistoryMixin, DomainAdmin):
    list_display = ("name", "shop_link", "amount", "min_spend", "valid_from", "valid_until", "active")
    list_filter = ("active", ("shop", titled_filter(_("店铺券/平台券"), admin.EmptyFieldListFilter)))
    list_select_related = ("shop",)
    search_fields = ("name", "shop__name")
    date_hierarchy = "valid_from"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "shop_link",
                    "amount",
                    "min_spend",
                    "valid_from",
                    "valid_until",
                    "active",
                    "created",
                )
            },
        ),
        (_("审计记录"), {"fields": ("audit_history_display",)}),
    )
    editable_fields = ("name",)

    shop_link = related_column("shop", _("店铺"))
    amount = fen_column("amount_fen", _("优惠金额"))
    min_spend = fen_column("min_spend_fen", _("使用门槛"))
    created = CREATED


@admin.register(PriceRecord)
class PriceRecordAdmin(LedgerAdmin):
    """Actual prices as they were seen: facts, never edited."""

    list_display = (
        "observed_at",
        "product_link",
        "specs_key",
        "shop_link",
        "platform",
        "unit_price",
        "source",
    )
    list_filter = ("platform", "source", "excluded")
    list_select_related = ("product", "shop")
    search_fields = ("product__brand", "product__model", "shop__name", "specs_key")
    date_hierarchy = "observed_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "product_link",
                    "specs_key",
                    "sku_link",
                    "shop_link",
                    "platform",
                    "unit_price",
                    "observed_at",
                    "source",
                    "source_id",
                    "excluded",
                    "recorded_at",
                )
            },
        ),
    )

    product_link = related_column("product", _("标准商品"))
    sku_link = related_column("sku", _("SKU"))
    shop_link = related_column("shop", _("店铺"))
    unit_price = fen_column("unit_price_fen", _("成交单价"))
