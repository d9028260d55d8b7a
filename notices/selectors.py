"""Reads of notices: always one user's own."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from notices.models import Notice


def notices_for(user: AbstractBaseUser) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_count(user: AbstractBaseUser) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()
