"""What each kind of notice says. The apps that post notices register their kinds here in their
``AppConfig.ready()`` (notices sits low and never imports them), with a title, a body and a
function that turns the stored parameters into the words shown — in the reader's language,
rendered when read, never stored as text.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.encoding import force_str
from django.utils.formats import date_format

from core.money import format_fen

BUYER, SELLER = "buyer", "seller"


@dataclass(frozen=True)
class NoticeKind:
    code: str
    audience: str
    title: Any  # a lazy translation with %(name)s placeholders
    body: Any
    # Stored parameters → extra display parameters (translated names, derived figures).
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None


_kinds: dict[str, NoticeKind] = {}


def register(*kinds: NoticeKind) -> None:
    for kind in kinds:
        _kinds[kind.code] = kind


def kind_of(code: str) -> NoticeKind | None:
    return _kinds.get(code)


def registered() -> list[str]:
    return sorted(_kinds)


def local_time(value: Any) -> str:
    """An ISO timestamp as stored in params, shown in Asia/Shanghai."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return "—"
    if timezone.is_naive(moment):  # SQLite's JSON keeps UTC without an offset
        moment = timezone.make_aware(moment, UTC)
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def display_params(params: dict[str, Any]) -> dict[str, Any]:
    """Every ``*_fen`` as ``¥1,234.50`` and every ``*_at`` in local time, the rest as stored."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("_fen") and isinstance(value, int):
            shown[name] = format_fen(value)
        elif name.endswith("_at"):
            shown[name] = local_time(value)
        else:
            shown[name] = value
    return shown


def render(code: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of a notice in the active language. An unknown kind or a missing parameter
    shows the bare template, never an error."""
    kind = kind_of(code)
    if kind is None:
        return code, ""
    shown = display_params(params)
    if kind.render is not None:
        shown.update(kind.render(params))
    return _fill(kind.title, shown), _fill(kind.body, shown)


def _fill(template: Any, params: dict[str, Any]) -> str:
    text = force_str(template)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text
