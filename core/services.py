from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import AuditEvent


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
