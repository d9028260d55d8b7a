"""Numbers: the human-facing numbers of orders, policies and claims, and the one strict parser of
the integers people and clients send (ids, quantities, amounts in fen).

Strict means: a whole number written as such. ``1.5`` is not truncated to 1, ``1.0`` and ``"1.0"``
are not "close enough", ``"１"`` (full-width) or ``"١"`` are not read as 1 the way Python's ``int()``
would, and ``true`` is not 1. Every refusal has a code and a translated message.
"""

import re
import secrets

from django.utils import timezone

from core.errors import ERRORS, InvalidInput, ServiceError, refusal

# Ids are 64-bit signed integers in the database.
MAX_ID = 2**63 - 1
# Optional minus, then ASCII digits only (re.ASCII: \d would match every script's digits).
_INTEGER = re.compile(r"-?[0-9]{1,40}", re.ASCII)

# DRF's fields say the same as parse_int.
NOT_AN_INTEGER = ERRORS["not_an_integer"][0]


def new_number(prefix: str = "") -> str:
    """A date followed by 12 random digits, e.g. ``BD20261125`` + ``004829163774``."""
    today = timezone.localdate().strftime("%Y%m%d")
    return f"{prefix}{today}{secrets.randbelow(10**12):012d}"


def is_int(value: object) -> bool:
    """A real ``int``: ``True`` is an ``int`` to Python, not to us."""
    return isinstance(value, int) and not isinstance(value, bool)


def _within(value: int, min_value: int | None, max_value: int | None) -> bool:
    return (min_value is None or value >= min_value) and (max_value is None or value <= max_value)


def require_int(
    value: object, *, min_value: int | None = None, max_value: int | None = None, error: ServiceError
) -> int:
    """What a service takes: an ``int`` (never a bool, float or string) within the bounds, else
    ``error``, the service's own refusal from its app's catalogue."""
    if not is_int(value) or not _within(value, min_value, max_value):
        raise error
    return value


def parse_int(value: object, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """What a client sends: an ``int``, or a string of ASCII digits (a query parameter, a form
    field), within the bounds. Anything else is ``not_an_integer``; outside them ``out_of_range``."""
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        value = int(value)
    if not is_int(value):
        raise refusal("not_an_integer")
    if not _within(value, min_value, max_value):
        low = "−∞" if min_value is None else min_value
        high = "∞" if max_value is None else max_value
        raise refusal("out_of_range", min=low, max=high)
    return value


def id_or_none(value: object) -> int | None:
    """The id ``value`` names (``7`` or ``"7"``, within the database's range), or None."""
    try:
        return parse_int(value, min_value=1, max_value=MAX_ID)
    except InvalidInput:
        return None
