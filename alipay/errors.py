"""Every refusal of the simulated Alipay (transfers, top-ups, balances): its code, its message, and
whether the request itself is wrong (400) or the ledger refuses it (409).

Services raise ``refusal(key, **params)``; tests assert the code. See ``core.errors`` for keys of
the form ``code:why``.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of


class AlipayRefused(ServiceError):
    """A ledger service refused to act (409). Nothing changed."""


class AlipayInputInvalid(InvalidInput, AlipayRefused):
    """The request itself is wrong (400)."""


class InsufficientBalance(AlipayRefused):
    """An account that may not go negative would have: callers catch this one by name."""


ERRORS: Catalogue = {
    "invalid_transfer:empty_leg": (_("转账分录不能为空或为零。"), True),
    "invalid_transfer:repeated_account": (_("同一账户在一笔转账中只能出现一次。"), True),
    "invalid_transfer:unknown_kind": (_("未知的转账类型。"), True),
    "unbalanced_transfer": (_("复式记账:借贷必须相等。"), True),
    "invalid_amount": (_("充值金额必须是大于零的整数(分),且不超过一亿元。"), True),
    "insufficient_balance": (_("%(account)s余额不足。"), False),
}


def refusal(key: str, **params: Any) -> AlipayRefused:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    if key == "insufficient_balance":
        return InsufficientBalance(key, message, **params)
    return (AlipayInputInvalid if invalid_input else AlipayRefused)(code_of(key), message, **params)
