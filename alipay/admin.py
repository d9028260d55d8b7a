"""The simulated Alipay ledger, read-only: a correction is a new transfer, never an edit."""

from django.contrib import admin
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alipay.models import Account, Entry, Transfer
from core.admin import LedgerAdmin, ReadOnlyInline, date_column, fen_column, related_column
from core.money import format_fen

RECENT_ENTRIES = 20


@admin.register(Account)
class AccountAdmin(LedgerAdmin):
    list_display = ("code", "name", "kind", "user_link", "balance", "allow_negative", "created")
    list_filter = ("kind", "allow_negative")
    list_select_related = ("user",)
    search_fields = ("code", "name", "user__username")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "user_link", "balance", "allow_negative", "created")}),
        (_("最近分录"), {"fields": ("recent_entries",)}),
    )

    user_link = related_column("user", _("用户"))
    balance = fen_column("balance_fen", _("余额"))
    created = date_column("created_at", _("开户时间"))

    @admin.display(description=_("最近分录"))
    def recent_entries(self, obj: Account) -> str:
        entries = obj.entries.select_related("transfer").order_by("-id")[:RECENT_ENTRIES]
        url = reverse("admin:alipay_entry_changelist") + f"?account__id__exact={obj.pk}"
        rows = [(entry, format_fen(entry.amount_fen)) for entry in entries]
        return render_to_string("admin/alipay/entries.html", {"entries": rows, "all_url": url})


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account_link", "amount", "created_at")
    account_link = related_column("account", _("账户"))
    amount = fen_column("amount_fen", _("金额"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account")


@admin.register(Transfer)
class TransferAdmin(LedgerAdmin):
    list_display = ("created_at", "kind", "key", "moved", "memo", "reference")
    list_filter = ("kind",)
    search_fields = ("key", "memo", "reference")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("id", "key", "kind", "moved", "memo", "reference", "created_at")}),)
    inlines = (EntryInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transfer]:
        # What moved is the sum of the credit legs; one GROUP BY, not a query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(moved_fen=Sum("entries__amount_fen", filter=Q(entries__amount_fen__gt=0)))
        )

    moved = fen_column("moved_fen", _("金额"))


@admin.register(Entry)
class EntryAdmin(LedgerAdmin):
    list_display = ("id", "created_at", "account_link", "amount", "transfer_kind", "transfer_link", "memo")
    list_filter = ("account__kind", "transfer__kind")
    list_select_related = ("account", "transfer")
    search_fields = ("account__code", "account__name", "transfer__key", "transfer__reference")
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("transfer_link", "account_link", "amount", "created_at")}),)

    account_link = related_column("account", _("账户"))
    amount = fen_column("amount_fen", _("金额"))

    @admin.display(description=_("类型"), ordering="transfer__kind")
    def transfer_kind(self, obj: Entry) -> str:
        return obj.transfer.get_kind_display()

    @admin.display(description=_("资金流水"), ordering="transfer__key")
    def transfer_link(self, obj: Entry) -> str:
        url = reverse("admin:alipay_transfer_change", args=[obj.transfer_id])
        return format_html('<a href="{}">{}</a>', url, obj.transfer.key)

    @admin.display(description=_("摘要"))
    def memo(self, obj: Entry) -> str:
        return obj.transfer.memo
