"""Refusals that users read: a stable code for tests and clients, a translated message for people.

Each app lists its refusals in one catalogue, ``<app>/errors.py``: ``ERRORS`` maps a key to
``(message, whether the request itself is wrong)`` and ``refusal(key, **params)`` builds the
exception to raise. The key is the code clients and tests see; where one code has several
wordings, each is keyed ``code:why`` and the code is the part before the colon.
"""

from typing import Any

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A service refused to act. Nothing was changed."""

    status = 409

    def __init__(self, code: str, message: Any, **params: Any) -> None:
        self.code = code
        self.params = params
        self._message = message
        super().__init__(code)

    @property
    def message(self) -> str:
        text = force_str(self._message)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message}


class InvalidInput(ServiceError):
    """The request itself is malformed (a bad amount, quantity or option)."""

    status = 400


# key → (message, whether the request itself is wrong): see the module's docstring.
Catalogue = dict[str, tuple[Any, bool]]


def code_of(key: str) -> str:
    """The code a catalogue key stands for: ``order_not_payable:expired`` → ``order_not_payable``."""
    return key.partition(":")[0]


class IdempotencyKeyReused(ServiceError):
    """An ``Idempotency-Key`` sent again with another request."""

    status = 422


# The core app's own refusals: strict numbers and amounts, preferences, the API's login and keys.
ERRORS: Catalogue = {
    "not_an_integer": (_("必须是整数:只能使用半角数字 0-9,不能带小数点。"), True),
    "out_of_range": (_("必须在 %(min)s 到 %(max)s 之间。"), True),
    "invalid_amount": (_("金额格式不正确:请输入最多两位小数的正数。"), True),
    "invalid_setting": (_("自动理赔只能是开启或关闭。"), True),
    "invalid_credentials": (_("用户名或密码错误。"), True),
    "invalid_idempotency_key": (_("幂等键必须是 1 到 255 个可见 ASCII 字符(不含空格)。"), True),
    # Only possible if the first request's key expired in the instant between: ask again.
    "idempotency_conflict": (_("相同幂等键的请求正在处理,请稍后重试。"), False),
    "idempotency_key_reused": (_("该幂等键已用于另一个请求,请为新的请求使用新的幂等键。"), False),
}


def refusal(key: str, **params: Any) -> ServiceError:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    if key == "idempotency_key_reused":
        return IdempotencyKeyReused(key, message, **params)
    return (InvalidInput if invalid_input else ServiceError)(code_of(key), message, **params)
