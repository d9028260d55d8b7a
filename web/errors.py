"""Every refusal the pages make themselves (before any service is called): its code, its
message, and whether the request itself is wrong (400) or refused (409).

Pages raise ``refusal(key, **params)`` and show its message like a service's; tests assert the code.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import Catalogue, InvalidInput, ServiceError, code_of

ERRORS: Catalogue = {
    # The seller's coverage form named a product that is not among the row's choices.
    "invalid_product": (_("请选择列表中的保险产品。"), True),
}


def refusal(key: str, **params: Any) -> ServiceError:
    """The exception to raise for ``key``, its message filled with ``params``."""
    message, invalid_input = ERRORS[key]
    return (InvalidInput if invalid_input else ServiceError)(code_of(key), message, **params)
