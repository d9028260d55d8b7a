"""Every refusal of the insurance app (deposits, coverage, the API's coverage terms): its code, its
message, and whether the request itself is wrong (400) or the coverage refuses it (409).

Services raise ``refusal(key, **params)``; tests assert the code.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of


class CoverageRefused(ServiceError):
    """An insurance service refused to act (409). Nothing changed."""


class CoverageInputInvalid(InvalidInput, CoverageRefused):
    """The request itself is wrong (400)."""


ERRORS: Catalogue = {
    "invalid_amount": (_("保证金金额必须是大于零的整数(分),且不超过一亿元。"), True),
    "invalid_product": (_("请选择一个保险产品。"), True),
    "terms_set_by_insurer": (
        _("费率、保价天数、赔付上限和审核阈值由保险公司的保险产品决定,商家不能设置(收到:%(fields)s)。"),
        True,
    ),
    # Another seller's campaign item does not exist for a seller (the API answers 404).
    "not_found": (_("活动商品不存在。"), False),
    "campaign_over": (_("活动已结束,不能再开启保价。"), False),
    "no_product": (_("暂无保险公司为该商品提供保价产品,请联系平台。"), False),
    "insufficient_deposit": (_("保证金不足:开启保价需要至少 %(need)s 的保证金,当前 %(have)s。"), False),
    # Why a product cannot cover an item: InsuranceProduct.offer_refusal's codes.
    "product_withdrawn": (_("该保险产品已停售,请选择其他产品。"), False),
    "seller_not_underwritten": (_("保险公司暂不为您的店铺承保该产品,请选择其他产品。"), False),
    "platform_not_covered": (_("该保险产品不承保这个平台的商品,请选择其他产品。"), False),
}


def refusal(key: str, **params: Any) -> CoverageRefused:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    return (CoverageInputInvalid if invalid_input else CoverageRefused)(code_of(key), message, **params)
