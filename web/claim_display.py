"""A claim as people read it: each stored check with its translated message and result, and
the reasons a claim waits for review.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import pgettext_lazy

from claims import rules
from claims.models import Claim
from core.models import audit_action_label

RESULT_LABELS = {
    rules.PASSED: pgettext_lazy("check result", "通过"),
    rules.FAILED: pgettext_lazy("check result", "未通过"),
    rules.SKIPPED: pgettext_lazy("check result", "未检查"),
}


def decision(claim: Claim) -> list[dict[str, Any]]:
    """The stored checks, each with its translated message."""
    return [
        {
            "code": check["code"],
            "result": check["result"],
            "result_label": RESULT_LABELS.get(check["result"], check["result"]),
            "message": rules.check_message(check),
        }
        for check in claim.checks
    ]


@dataclass
class ClaimView:
    claim: Claim
    checks: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    review_reasons: list[str]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [check for check in self.checks if check["result"] == rules.FAILED]


action_label = audit_action_label  # every app's audit actions, registered with core
