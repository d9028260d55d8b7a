"""Every refusal of the claims app: its code, its message, and how the API answers it.

A refusal that is also an adjudication check (``not_insured``, ``already_claimed``,
``evidence_not_found``) says what the check says when it fails, so the two never drift apart.
Services raise ``refusal(code, **params)``; tests assert the code.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from claims import rules
from core.errors import InvalidInput, ServiceError


class ClaimRefused(ServiceError):
    """A claims service refused to act (409 unless the catalogue says otherwise). Nothing changed."""


class ClaimInputInvalid(InvalidInput, ClaimRefused):
    """The request itself is wrong: answered 400, shown beside the field it is about."""


# code → (message, whether the request itself is wrong)
ERRORS: dict[str, tuple[Promise, bool]] = {
    "not_found": (_("订单不存在。"), False),  # the API answers 404 for this code
    "not_insured": (rules.BY_CODE["not_insured"].failed, False),
    "already_claimed": (rules.BY_CODE["already_claimed"].failed, False),
    "evidence_not_found": (rules.BY_CODE["evidence_not_found"].failed, True),
    "invalid_evidence_number": (_("请输入正确的举证订单号(只含数字或字母,最多 32 位)。"), True),
    "not_staff": (_("只有保险公司审核人员可以审核理赔。"), False),
    # Another insurer's claim does not exist for an officer.
    "claim_not_found": (_("理赔不存在。"), False),
    "own_claim": (_("不能审核自己作为买家提交的理赔。"), False),
    "claim_not_in_review": (_("只有人工审核中的理赔可以审核。"), False),
    "reason_required": (_("请填写审核意见。"), True),
    "reason_too_long": (_("审核意见不能超过 2000 字。"), True),
}


def refusal(code: str, **params: Any) -> ClaimRefused:
    """The exception to raise for ``code``, its message filled with ``params``."""
    message, invalid_input = ERRORS[code]
    return (ClaimInputInvalid if invalid_input else ClaimRefused)(code, message, **params)
