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
        rows = self.object_list
        if hasattr(rows, "order_by"):
            rows = rows.order_by()  # any cap + 1 rows will do for counting: no sort
        found = rows[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)

    capped = False
