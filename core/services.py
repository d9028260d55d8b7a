from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import F, Value
from django.utils import timezone

from core.errors import refusal
from core.models import AuditEvent, Preferences


def audit_record(
    *,
    subject: models.Model,
    action: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Write one audit row; call it inside the transaction that made the change."""
    return AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def audit_record_many(
    *,
    model: type[models.Model],
    object_ids: Iterable[int],
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
) -> int:
    """The set-based twin of :func:`audit_record`, for campaign-sized batches."""
    content_type = ContentType.objects.get_for_model(model)
    rows = [
        AuditEvent(
            content_type=content_type,
            object_id=pk,
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
        )
        for pk in object_ids
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=2_000)
    return len(rows)


def audit_record_query(
    *,
    queryset: models.QuerySet,
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
) -> int:
    """One audit row per object of ``queryset``, written by the database (``INSERT … SELECT``).

    The set-based twin for campaign-sized batches: no row passes through Python.
    """
    content_type = ContentType.objects.get_for_model(queryset.model)
    columns = {
        "content_type_id": Value(content_type.pk, output_field=models.IntegerField()),
        "object_id": F("pk"),
        "action": Value(action, output_field=models.CharField()),
        "from_state": Value(from_state, output_field=models.CharField()),
        "to_state": Value(to_state, output_field=models.CharField()),
        "reason": Value(reason, output_field=models.TextField()),
        "data": Value({}, output_field=models.JSONField()),
        "created_at": Value(timezone.now(), output_field=models.DateTimeField()),
    }
    select_sql, params = queryset.order_by().values_list(*columns.values()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(columns)}) {select_sql}",  # noqa: S608
            params,
        )
        return cursor.rowcount


def preferences_update(*, user: Any, auto_claim: bool) -> Preferences:
    """Switch 自动理赔 on or off for oneself; setting the same value again changes nothing."""
    if not isinstance(auto_claim, bool):
        raise refusal("invalid_setting")
    preferences, _created = Preferences.objects.get_or_create(user=user)
    if preferences.auto_claim != auto_claim:
        preferences.auto_claim = auto_claim
        preferences.save(update_fields=["auto_claim", "updated_at"])
        audit_record(
            subject=preferences, action="auto_claim_on" if auto_claim else "auto_claim_off", actor=user
        )
    return preferences
