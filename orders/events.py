"""What an order's lifecycle announces to the apps above it, inside the same transaction.

Dependencies point one way (claims → insurance → orders), so orders cannot call insurance to
issue a policy when an order is paid. Instead the apps above subscribe here in their
``AppConfig.ready()``; the order services call :func:`announce` *inside* their ``atomic()`` block,
so a subscriber that refuses rolls the whole state change back. This list is the whole mechanism:
no Django signals, no hidden receivers.
"""

from collections.abc import Callable
from enum import Enum
from typing import Any


class OrderEvent(Enum):
    PAID = "paid"  # kwargs: order
    SUCCEEDED = "succeeded"  # kwargs: order
    LINE_REFUNDED = "line_refunded"  # kwargs: line (its refunded_fen already includes the refund)


_subscribers: dict[OrderEvent, list[Callable[..., Any]]] = {event: [] for event in OrderEvent}


def subscribe(event: OrderEvent, handler: Callable[..., Any]) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def announce(event: OrderEvent, **kwargs: Any) -> None:
    for handler in _subscribers[event]:
        handler(**kwargs)
