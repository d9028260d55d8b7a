"""Every change to a campaign or an order goes through one of these functions (one module per
stage of an order's life; import them from here)."""

from orders.errors import MAX_QUANTITY, OrderRefused
from orders.services.addresses import address_create
from orders.services.campaigns import (
    campaign_create,
    campaign_item_add,
    campaign_settle,
    campaigns_advance,
)
from orders.services.checkout import order_place, order_quote
from orders.services.lifecycle import (
    order_cancel,
    order_confirm_receipt,
    order_pay,
    order_ship,
    orders_close_unpaid,
)
from orders.services.refunds import order_line_refund, order_refund

__all__ = [
    "MAX_QUANTITY",
    "OrderRefused",
    "address_create",
    "campaign_create",
    "campaign_item_add",
    "campaign_settle",
    "campaigns_advance",
    "order_cancel",
    "order_confirm_receipt",
    "order_line_refund",
    "order_pay",
    "order_place",
    "order_quote",
    "order_refund",
    "order_ship",
    "orders_close_unpaid",
]
