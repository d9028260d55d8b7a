"""A paginator for the admin's changelists that never counts millions of rows."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``): a changelist of
    a million claims costs the same as one of ten thousand. Past the cap the page says "10000+"
    (``capped``); filters and search narrow it down."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        found = self.object_list[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)

    capped = False
