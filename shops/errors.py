"""Every refusal of the shops app (prices, coupons): its code, its message, and whether the
request itself is wrong (400) or the shop refuses it (409).

Services raise ``refusal(key, **params)``; tests assert the code. See ``core.errors`` for keys of
the form ``code:why``.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of


class ShopRefused(ServiceError):
    """A shops service refused to act (409). Nothing changed."""


class ShopInputInvalid(InvalidInput, ShopRefused):
    """The request itself is wrong (400)."""


AMOUNT = _("金额必须是大于零的整数(分),且不超过一亿元。")

ERRORS: Catalogue = {
    "invalid_price": (AMOUNT, True),
    "invalid_amount:coupon": (AMOUNT, True),
    "invalid_amount:min_spend": (_("使用门槛不能为负数。"), True),
    "coupon_amount_above_threshold": (_("优惠金额 %(amount)s 必须低于使用门槛 %(min)s。"), True),
    "invalid_period": (_("失效时间必须晚于生效时间。"), True),
    "invalid_name": (_("请填写 1 到 100 个字符的名称。"), True),
}


def refusal(key: str, **params: Any) -> ShopRefused:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    return (ShopInputInvalid if invalid_input else ShopRefused)(code_of(key), message, **params)
