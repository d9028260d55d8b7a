"""Detected price drops in the admin (imported by claims/admin.py), read-only: detection writes
them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from claims.models import PriceDrop
from core.admin import LedgerAdmin, date_column, fen_column, related_column


@admin.register(PriceDrop)
class PriceDropAdmin(LedgerAdmin):
    list_display = (
        "improved",
        "policy_link",
        "buyer",
        "amount",
        "unit_price",
        "platform",
        "shop",
        "first_seen",
    )
    list_select_related = ("policy__buyer", "record__shop")
    list_filter = ("record__platform",)
    search_fields = ("policy__number", "policy__buyer__username")
    date_hierarchy = "improved_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "policy_link",
                    "buyer",
                    "record_link",
                    "platform",
                    "shop",
                    "unit_price",
                    "difference",
                    "amount",
                    "first_seen",
                    "improved",
                )
            },
        ),
    )

    policy_link = related_column("policy", _("保单"))
    record_link = related_column("record", _("成交价记录"))
    buyer = related_column("policy__buyer", _("买家"))
    amount = fen_column("amount_fen", _("可赔金额"))
    unit_price = fen_column("unit_price_fen", _("成交单价"))
    difference = fen_column("difference_fen", _("差价"))
    first_seen = date_column("first_seen_at", _("发现时间"))
    improved = date_column("improved_at", _("最近降价时间"))

    @admin.display(description=_("平台"), ordering="record__platform")
    def platform(self, obj: PriceDrop) -> str:
        return obj.record.get_platform_display()

    @admin.display(description=_("店铺"), ordering="record__shop__name")
    def shop(self, obj: PriceDrop) -> str:
        return obj.record.shop.name
