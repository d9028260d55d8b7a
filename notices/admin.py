"""Notices in the admin, read-only: they are written by the events themselves."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import LedgerAdmin, related_column
from notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(LedgerAdmin):
    list_display = ("created_at", "user_link", "kind", "title", "read_at", "sent_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("key", "user__username")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("user_link", "kind", "key", "title", "body", "link", "params")}),
        (_("状态"), {"fields": ("created_at", "read_at", "sent_at", "email_to")}),
    )

    user_link = related_column("user", _("用户"))

    @admin.display(description=_("标题"))
    def title(self, obj: Notice) -> str:
        return obj.title

    @admin.display(description=_("内容"))
    def body(self, obj: Notice) -> str:
        return obj.body
