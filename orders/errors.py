"""Every refusal of the orders app (campaigns, checkout, an order's life, refunds): its code, its
message, and whether the request itself is wrong (400) or the order's state refuses it (409).

Services raise ``refusal(key, **params)``; tests assert the code. See ``core.errors`` for keys of
the form ``code:why``.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of

# The most pieces of one SKU in one order (the quantity refusal below states it).
MAX_QUANTITY = 999


class OrderRefused(ServiceError):
    """An order service refused to act (409). Nothing changed."""


class OrderInputInvalid(InvalidInput, OrderRefused):
    """The request itself is wrong (400)."""


ERRORS: Catalogue = {
    # Campaigns
    "invalid_name": (_("请填写 1 到 128 个字符的活动名称。"), True),
    "invalid_period": (_("活动结束时间必须晚于开始时间。"), True),
    "invalid_price": (_("活动价必须是大于零的整数(分),且不超过一亿元。"), True),
    "not_your_sku": (_("只能把自己店铺的商品加入活动。"), True),
    "campaign_over": (_("活动已结束,不能再添加商品。"), False),
    # Addresses and checkout
    "invalid_address:incomplete": (_("请完整填写收货地址(每项不超过长度限制)。"), True),
    "invalid_address:not_yours": (_("请选择您自己的收货地址。"), True),
    "empty_order": (_("请至少选择一件商品。"), True),
    "mixed_shops": (_("一笔订单只能包含同一店铺的商品。"), True),
    "duplicate_sku": (_("同一 SKU 请合并为一行并填写数量。"), True),
    "invalid_quantity": (_("数量必须是 1 到 999 之间的整数。"), True),
    "coupon_not_applicable": (_("这张优惠券不能用于本店铺的订单。"), True),
    "coupon_expired": (_("优惠券不在有效期内。"), True),
    "coupon_min_spend": (_("未达到优惠券的使用门槛。"), True),
    # An order's life; another buyer's order does not exist for them (the API answers 404).
    "not_found": (_("订单不存在。"), False),
    "order_not_payable:closed": (_("订单已关闭,不能付款。"), False),
    "order_not_payable:expired": (_("订单已超过付款时限。"), False),
    "order_not_shippable": (_("只有待发货的订单可以发货。"), False),
    "order_not_shipped": (_("订单尚未发货,不能确认收货。"), False),
    "order_not_cancellable": (_("只有待付款的订单可以取消。"), False),
    # Refunds
    "invalid_amount": (_("退款金额必须大于零。"), True),
    "invalid_request": (_("请提供售后单号。"), True),
    "refund_too_large": (_("退款金额不能超过实付款减去已退款。"), True),
    "order_not_refundable": (_("该订单状态不能退款。"), False),
}


def refusal(key: str, **params: Any) -> OrderRefused:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    return (OrderInputInvalid if invalid_input else OrderRefused)(code_of(key), message, **params)
