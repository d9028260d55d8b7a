from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from core.models import AuditEvent, Preferences


def audit_history(subject: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("actor")


def audit_histories(model: type[models.Model], object_ids: Iterable[int]) -> dict[int, list[AuditEvent]]:
    """The histories of many objects of one model in one query, keyed by object id."""
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=list(object_ids)
    ).select_related("actor")
    found: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        found[event.object_id].append(event)
    return found


def auto_claim_enabled(user) -> bool:
    """自动理赔 is on unless the person switched it off (no settings row: on)."""
    return not Preferences.objects.filter(user=user, auto_claim=False).exists()
