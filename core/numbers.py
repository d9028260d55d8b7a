"""Human-facing numbers for orders, policies and claims (unique constraints back them)."""

import secrets

from django.utils import timezone


def new_number(prefix: str = "") -> str:
    """A date followed by 12 random digits, e.g. ``BD20261125`` + ``004829163774``."""
    today = timezone.localdate().strftime("%Y%m%d")
    return f"{prefix}{today}{secrets.randbelow(10**12):012d}"
