"""Every refusal of the notices app: its code, its message, and whether the request itself is
wrong (400) or the notice refuses it (409).

Services raise ``refusal(key, **params)``; tests assert the code.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of


class NoticeRefused(ServiceError):
    """A notices service refused to act (409). Nothing changed."""


class NoticeInputInvalid(InvalidInput, NoticeRefused):
    """The request itself is wrong (400)."""


ERRORS: Catalogue = {
    "invalid_notice_kind": (_("未知的消息类型。"), True),
    # Another user's notice does not exist for them (the API answers 404).
    "not_found": (_("消息不存在。"), False),
}


def refusal(key: str, **params: Any) -> NoticeRefused:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    return (NoticeInputInvalid if invalid_input else NoticeRefused)(code_of(key), message, **params)
