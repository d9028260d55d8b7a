"""The decision on a claim, from facts alone: every check, the state it leads to, the money and,
for a claim that passes, the reasons it needs a person first (``rules.REVIEW_RULES``). No
database, no clock: ``claims.services.claim_adjudicate`` loads the facts, calls ``decide`` and
applies what it returns.
"""

from dataclasses import dataclass, field
from typing import Any

from claims import rules
from claims.facts import ORDER, Facts
from claims.models import ClaimState


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    state: str
    checks: list[dict[str, Any]]
    price_difference_fen: int | None = None
    compensation_fen: int | None = None
    evidence_order_id: int | None = None  # only a claim that passed holds its evidence order
    review_reasons: list[Reason] = field(default_factory=list)

    @property
    def failed_codes(self) -> list[str]:
        return [check["code"] for check in self.checks if check["result"] == rules.FAILED]

    @property
    def why(self) -> str:
        """The codes behind the state, for the audit trail."""
        return ",".join(self.failed_codes or [reason.code for reason in self.review_reasons])


def decide(facts: Facts) -> Decision:
    """判责: approve a claim that passes every check, send it to staff if a review rule says so,
    reject it otherwise (a skipped check is not a pass)."""
    checks = rules.evaluate(facts)
    if any(check["result"] != rules.PASSED for check in checks):
        return Decision(state=ClaimState.REJECTED, checks=checks)
    amount = rules.compensation_for(facts)
    reasons = [
        Reason(rule.code, params)
        for rule in rules.REVIEW_RULES
        if (params := rule.test(facts, amount)) is not None
    ]
    return Decision(
        state=ClaimState.IN_REVIEW if reasons else ClaimState.APPROVED,
        checks=checks,
        price_difference_fen=facts.insured.paid_fen - facts.evidence.line.paid_fen,
        compensation_fen=amount,
        evidence_order_id=facts.evidence.order_id if facts.evidence.kind == ORDER else None,
        review_reasons=reasons,
    )
