"""The building blocks every admin in the project shares, and the audit log's own admin.

Staff may look at everything, but money and state move only through services: the admin base
classes below make every state and money column read-only, refuse deletion, and save only the
plain fields a form really changed.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core.models import AuditEvent
from core.money import format_fen
from core.pagination import CappedCountPaginator
from core.selectors import audit_history


def fen_column(field: str, description: Any) -> Callable[[Any, models.Model], str]:
    """A sortable column (or read-only field) showing an integer-fen field as ``¥1,234.50``."""

    @admin.display(description=description, ordering=field)
    def column(_admin: Any, obj: models.Model) -> str:
        return format_fen(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


class ValueListFilter(admin.AllValuesFieldListFilter):
    """Django's filter by each distinct value, with the blank value named (an empty link is
    unreadable to a screen reader)."""

    def choices(self, changelist: Any) -> Iterable[dict[str, Any]]:
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice = {**choice, "display": self.empty_value_display}
            yield choice


def related_column(path: str, description: Any) -> Callable[[Any, models.Model], str]:
    """A sortable column linking to a related object, ``path`` as in a lookup
    (``"policy__coverage__insurer"``); select the path in ``list_select_related``."""

    @admin.display(description=description, ordering=path)
    def column(_admin: Any, obj: models.Model) -> str:
        related: Any = obj
        for name in path.split("__"):
            related = getattr(related, name, None)
            if related is None:
                return "—"
        return admin_link(related)

    column.__name__ = f"{path}_link"
    return column


def date_column(field: str, description: Any) -> Callable[[Any, models.Model], Any]:
    """A sortable timestamp column with a translated header (for fields without a verbose name)."""

    @admin.display(description=description, ordering=field)
    def column(_admin: Any, obj: models.Model) -> Any:
        return getattr(obj, field)

    column.__name__ = f"{field}_display"
    return column


def titled_filter(title: Any, base: type[admin.FieldListFilter] = admin.RelatedFieldListFilter) -> type:
    """A field filter with a translated title (for relations without a verbose name)."""

    class TitledFilter(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledFilter


def admin_link(obj: models.Model | None, text: Any = None) -> str:
    """A link to an object's admin change page (plain text when it has none).

    People are shown by name, not linked: the staff groups may not open user accounts.
    """
    if obj is None:
        return "—"
    label = obj if text is None else text
    if isinstance(obj, get_user_model()):
        return str(label)
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(label)
    return format_html('<a href="{}">{}</a>', url, label)


class DomainAdmin(admin.ModelAdmin):
    """Every field is read-only unless named in ``editable_fields`` (or, on the add page, in
    ``creatable_fields``); a model without ``creatable_fields`` cannot be added here.

    Declare ``fieldsets`` (and ``add_fieldsets`` when adding is allowed): the read-only set is
    derived from them. Nothing is ever deleted from the admin: rows that moved money or state
    are referenced by the ledger and the audit log.
    """

    editable_fields: tuple[str, ...] = ()
    creatable_fields: tuple[str, ...] | None = None
    add_fieldsets: Any = None
    # Form labels for relations whose model field has no verbose name.
    field_labels: dict[str, Any] = {}
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        # A first column that links to another object cannot also hold the row's link: the
        # browser splits an <a> inside an <a>, leaving an empty link. Link the first plain column.
        links = super().get_list_display_links(request, list_display)
        if links is not None and list(links) == list(list_display)[:1] and str(links[0]).endswith("_link"):
            plain = [name for name in list_display if not str(name).endswith("_link")]
            return plain[:1] or links
        return links

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # A row outside the user's queryset (another insurer's claim) does not exist for them:
        # a 404, never the admin's "may have been deleted" redirect. Django calls this after its
        # permission checks, so a user without the model's permission still gets a 403.
        raise Http404

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.field_labels:
            kwargs["label"] = self.field_labels[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        fieldsets = self.add_fieldsets if obj is None and self.add_fieldsets else self.fieldsets
        if fieldsets:
            names = flatten_fieldsets(fieldsets)
        else:  # no layout declared: every model field, none of them editable by accident
            opts = self.model._meta
            names = [f.name for f in [*opts.fields, *opts.many_to_many] if not f.auto_created]
        editable = set(self.editable_fields if obj is not None else self.creatable_fields or ())
        return [name for name in names if name not in editable]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.creatable_fields is not None and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # A row with nothing editable gets a read-only page without save buttons; the
        # model-level permission (obj=None) still guards the changelist's actions.
        if obj is not None and not self.editable_fields:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Write only the plain columns the form changed, never a stale copy of the whole row:
        # a state a service moved a moment ago must not be overwritten by this save.
        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in concrete and name in self.editable_fields]
        if fields:
            obj.save(update_fields=fields)


class LedgerAdmin(DomainAdmin):
    """Append-only rows (ledger entries, transfers, premiums, payouts, the audit log): nobody,
    not even a superuser, adds, changes or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """A read-only table of related rows on a change page."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        return list(self.fields or ())

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


def render_audit_history(events: Iterable[AuditEvent]) -> SafeString:
    return render_to_string("admin/core/audit_history.html", {"events": list(events)})


class AuditHistoryMixin:
    """Adds ``audit_history_display``, a read-only section listing who moved the object when;
    ``AUDIT_FIELDSET`` puts it in a fieldset of its own."""

    AUDIT_FIELDSET = (_("审计记录"), {"fields": ("audit_history_display",)})

    @admin.display(description=_("审计记录"))
    def audit_history_display(self, obj: models.Model | None) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return render_audit_history(audit_history(obj))


@admin.register(AuditEvent)
class AuditEventAdmin(LedgerAdmin):
    list_display = (
        "created_at",
        "subject_type",
        "subject_link",
        "action",
        "from_state",
        "to_state",
        "actor_link",
        "reason",
    )
    list_filter = (
        ("content_type", titled_filter(_("对象类型"))),
        ("action", ValueListFilter),
        ("to_state", ValueListFilter),
    )
    list_select_related = ("content_type", "actor")
    search_fields = ("action", "reason", "actor__username")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "created_at",
                    "subject_type",
                    "subject_link",
                    "action",
                    "actor_link",
                    "from_state",
                    "to_state",
                    "reason",
                    "data",
                )
            },
        ),
    )

    actor_link = related_column("actor", _("操作人"))

    @admin.display(description=_("对象类型"), ordering="content_type")
    def subject_type(self, obj: AuditEvent) -> str:
        model = obj.content_type.model_class()
        return str(model._meta.verbose_name) if model else obj.content_type.model

    @admin.display(description=_("对象"), ordering="object_id")
    def subject_link(self, obj: AuditEvent) -> str:
        # Built from the content type alone: loading each subject would cost a query per row.
        ct = obj.content_type
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return str(obj.object_id)
        return format_html('<a href="{}">#{}</a>', url, obj.object_id)


# --- Django's own user and group pages, made readable by assistive technology ------------------


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time boxes, each named (Django's widget labels neither box)."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        labels = (context["date_label"], context["time_label"])
        for subwidget, label in zip(context["widget"]["subwidgets"], labels, strict=True):
            subwidget["attrs"]["aria-label"] = str(label).rstrip(":：")
        return context


class _PlainPickers:
    # The two-box picker (filter_horizontal) puts aria-label on bare <span>s, which assistive
    # technology ignores; a plain multiple select with its label reads well.
    filter_horizontal = ()
    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}


class UserAdmin(_PlainPickers, DjangoUserAdmin):
    pass


class GroupAdmin(_PlainPickers, DjangoGroupAdmin):
    pass


for _model, _admin_class in ((get_user_model(), UserAdmin), (Group, GroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
