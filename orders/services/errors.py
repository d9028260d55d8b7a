"""What the order services refuse, and their limits."""

from core.errors import ServiceError

MAX_QUANTITY = 999


class OrderRefused(ServiceError):
    pass
