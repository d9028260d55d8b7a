"""Order lists as buyers and sellers page through them: state tabs, and each order's lines with
their policies in a fixed number of queries.
"""

from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from insurance.selectors import policies_for_lines
from orders.models import Order, OrderState
from orders.selectors import (
    order_lines_with_product,
)

PAGE_SIZE = 20


def state_tabs(
    current: str, *, extra: dict[str, str] | None = None, counts: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """One tab per order state; ``counts`` puts a number beside the states it names."""
    tabs = []
    for value in ["", *OrderState.values]:
        query = {**(extra or {}), **({"state": value} if value else {})}
        tabs.append(
            {
                "value": value,
                "label": OrderState(value).label if value else _("全部"),
                "query": urlencode(query),
                "active": value == current,
                "count": (counts or {}).get(value),
            }
        )
    return tabs


def attach_lines(orders: list[Order]) -> None:
    """Each order's lines with their policies: two queries whatever the page holds."""
    lines = list(order_lines_with_product(order.pk for order in orders))
    policies = policies_for_lines(line.pk for line in lines)
    by_order: dict[int, list] = {}
    for line in lines:
        line.insurance = policies.get(line.pk)
        by_order.setdefault(line.order_id, []).append(line)
    for order in orders:
        order.line_list = by_order.get(order.pk, [])
