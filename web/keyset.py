"""Keyset pagination: newest first, "newer" and "older" links, and no OFFSET or COUNT(*).

A page is the ``size`` rows just before (``?older=``) or just after (``?newer=``) a cursor, the
sort key of the row at the page's edge; one query whatever the page's depth, and a row inserted
between two requests neither repeats nor hides a row on the next page. The key ends with the
primary key, so it is unique and the order stable.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet

from core.errors import InvalidInput
from core.numbers import parse_int

OLDER, NEWER = "older", "newer"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return str((value - EPOCH) // MICROSECOND)
    return str(int(value))


def _decode(text: str, *, is_time: bool) -> Any:
    number = parse_int(text)  # InvalidInput on anything else, "１" included
    return EPOCH + number * MICROSECOND if is_time else number


@dataclass
class KeysetPage:
    object_list: list[Any]
    has_newer: bool
    has_older: bool
    keys: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)
    # The rows the keys were read from, when the page shows something derived from them.
    keyed: list[Model] | None = None

    def __post_init__(self) -> None:
        if self.keyed is None:
            self.keyed = self.object_list

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_newer or self.has_older

    def _cursor(self, row: Model) -> str:
        return "_".join(_encode(getattr(row, key)) for key in self.keys)

    def _query(self, direction: str, row: Model) -> str:
        return urlencode({**self.params, direction: self._cursor(row)})

    @property
    def newer_query(self) -> str:
        return self._query(NEWER, self.keyed[0]) if self.keyed else urlencode(self.params)

    @property
    def older_query(self) -> str:
        return self._query(OLDER, self.keyed[-1]) if self.keyed else urlencode(self.params)


def _parse(queryset: QuerySet, keys: tuple[str, ...], text: str | None) -> tuple | None:
    if not text:
        return None
    parts = text.split("_")
    if len(parts) != len(keys):
        return None
    fields = [queryset.model._meta.get_field("id" if key == "pk" else key) for key in keys]
    try:
        return tuple(
            _decode(part, is_time=f.get_internal_type() == "DateTimeField")
            for part, f in zip(parts, fields, strict=True)
        )
    except (InvalidInput, OverflowError):
        return None  # a cursor we did not write: show the first page


def _beyond(keys: tuple[str, ...], values: tuple, op: str) -> Q:
    """Rows after ``values`` in ``op`` ("lt": older, "gt": newer) order of ``keys``."""
    q = Q(pk__in=[])
    for depth in range(len(keys)):
        equal = {keys[i]: values[i] for i in range(depth)}
        q |= Q(**equal, **{f"{keys[depth]}__{op}": values[depth]})
    return q


def keyset_page(
    queryset: QuerySet,
    params: Mapping[str, str],
    *,
    keys: tuple[str, ...] = ("created_at", "pk"),
    size: int = 20,
    show: Callable[[list[Model]], list[Any]] | None = None,
) -> KeysetPage:
    """The page of ``queryset`` (newest first by ``keys``) that ``params`` asks for; ``params``
    are the request's GET parameters, kept (but the cursor) in the page's links. ``show`` turns
    the page's rows into what it lists (e.g. policies into their orders)."""

    def page(rows: list[Model], *, newer: bool, older: bool) -> KeysetPage:
        shown = show(rows) if show else rows
        return KeysetPage(shown, has_newer=newer, has_older=older, keys=keys, params=kept, keyed=rows)

    kept = {k: v for k, v in params.items() if k not in (OLDER, NEWER, "page")}
    descending = [f"-{key}" for key in keys]
    older = _parse(queryset, keys, params.get(OLDER))
    newer = None if older else _parse(queryset, keys, params.get(NEWER))
    if older is not None:
        rows = list(queryset.filter(_beyond(keys, older, "lt")).order_by(*descending)[: size + 1])
        return page(rows[:size], newer=True, older=len(rows) > size)
    if newer is not None:
        rows = list(queryset.filter(_beyond(keys, newer, "gt")).order_by(*keys)[: size + 1])
        if len(rows) > size:
            return page(rows[:size][::-1], newer=True, older=True)
        if len(rows) == size:
            return page(rows[::-1], newer=False, older=True)
        # Fewer than a page is newer than the cursor: that is the first page, filled up.
    rows = list(queryset.order_by(*descending)[: size + 1])
    return page(rows[:size], newer=False, older=len(rows) > size)
