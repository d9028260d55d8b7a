from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import IdempotencyKey
from core.tasks import idempotency_keys_purge
from tests.factories import UserFactory


@pytest.mark.django_db
def test_it_purges_only_expired_idempotency_keys():
    user = UserFactory()
    now = timezone.now()
    IdempotencyKey.objects.create(
        user=user, key="old", fingerprint="f", expires_at=now - timedelta(seconds=1)
    )
    IdempotencyKey.objects.create(user=user, key="new", fingerprint="f", expires_at=now + timedelta(hours=1))
    assert idempotency_keys_purge.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_keys_purge.delay().get() == 0
