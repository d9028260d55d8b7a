from celery import shared_task
from django.utils import timezone

from core.models import IdempotencyKey


@shared_task
def idempotency_keys_purge() -> int:
    """Expired idempotency keys are ignored already; this keeps the table small."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
