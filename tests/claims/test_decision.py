"""判责 as a pure function: facts in, decision out, no database (claims/decision.py, claims/rules.py).

Alice bought one at ¥159.00 in the campaign; the window is [end, end + 15 days); she cites her own
unpaid order of the same product and specs at ¥149.00, placed on day one and filed on day two.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from claims import rules
from claims.decision import decide
from claims.facts import Evidence, EvidenceLine, Facts, Insured
from claims.models import ClaimState
from claims.rules import PASSED, SKIPPED

END = datetime(2026, 6, 18, 16, tzinfo=UTC)
ALICE, MALLORY = 1, 2
SHIP = ("张三", "13800138000", "浙江省杭州市余杭区文一西路969号")

INSURED = Insured(
    order_id=10,
    buyer_id=ALICE,
    order_state="succeeded",
    succeeded_at=END - timedelta(days=2),
    shipping_key=SHIP,
    product_id=7,
    specs_key="尺码=M;颜色=黑色",
    quantity=1,
    paid_fen=15_900,
    refunded_fen=0,
    policy_voided=False,
    window_starts_at=END,
    window_ends_at=END + timedelta(days=15),
    campaign_excluded=False,
    cap_fen=None,
    review_threshold_fen=None,
)
EVIDENCE = Evidence(
    number="JHS2",
    order_id=20,
    buyer_id=ALICE,
    shipping_key=SHIP,
    created_at=END + timedelta(days=1),
    line=EvidenceLine(product_id=7, specs_key="尺码=M;颜色=黑色", quantity=1, paid_fen=14_900),
)
FACTS = Facts(insured=INSURED, evidence=EVIDENCE, claimant_id=ALICE, filed_at=END + timedelta(days=2))


def with_(facts: Facts = FACTS, *, insured: dict | None = None, evidence: dict | None = None, **kw) -> Facts:
    return replace(
        facts,
        insured=replace(facts.insured, **(insured or {})),
        evidence=replace(facts.evidence, **(evidence or {})),
        **kw,
    )


def results(decision) -> dict[str, str]:
    return {check["code"]: check["result"] for check in decision.checks}


def check(decision, code: str) -> dict:
    return next(c for c in decision.checks if c["code"] == code)


def test_it_approves_the_difference():
    decision = decide(FACTS)

    assert decision.state == ClaimState.APPROVED
    assert set(results(decision).values()) == {PASSED}
    assert (decision.price_difference_fen, decision.compensation_fen) == (1_000, 1_000)
    assert decision.evidence_order_id == 20
    assert decision.review_reasons == []


def test_a_rejection_keeps_neither_money_nor_evidence():
    decision = decide(with_(evidence={"line": replace(EVIDENCE.line, paid_fen=16_000)}))

    assert decision.state == ClaimState.REJECTED
    assert decision.failed_codes == ["no_price_drop"]
    assert (decision.price_difference_fen, decision.compensation_fen, decision.evidence_order_id) == (
        None,
        None,
        None,
    )
    assert decision.why == "no_price_drop"


def test_a_trade_that_succeeded_after_filing_fails():
    """Issue 10.8: ``succeeded_at <= filed_at``."""
    decision = decide(with_(insured={"succeeded_at": FACTS.filed_at + timedelta(seconds=1)}))

    assert decision.failed_codes == ["trade_not_successful"]
    assert check(decision, "no_compensation")["params"] == {"needs": "trade_not_successful"}


def test_a_trade_that_succeeded_at_the_filing_instant_passes():
    assert decide(with_(insured={"succeeded_at": FACTS.filed_at})).state == ClaimState.APPROVED


def test_a_payout_rounding_to_nothing_fails_its_own_check():
    """Issue 10.8: a ¥1.00 drop on a line refunded down to ¥1.00 of ¥159.00 pays ¥0.00."""
    decision = decide(
        with_(insured={"refunded_fen": 15_800}, evidence={"line": replace(EVIDENCE.line, paid_fen=15_800)})
    )

    assert decision.state == ClaimState.REJECTED
    assert decision.failed_codes == ["no_compensation"]
    assert check(decision, "no_compensation")["params"] == {
        "amount": "¥0.00",
        "difference": "¥1.00",
        "refunded": "¥158.00",
    }


def test_another_quantity_skips_the_price_check():
    """Issue 10.11: one unit at ¥149.00 says nothing about two at ¥318.00."""
    decision = decide(with_(insured={"quantity": 2, "paid_fen": 31_800}))

    assert decision.failed_codes == ["evidence_quantity_mismatch"]
    assert results(decision)["no_price_drop"] == SKIPPED
    assert rules.check_message(check(decision, "no_price_drop")) == "未检查:数量不同。"


def test_another_buyers_order_is_not_looked_into():
    """Issue 10.4: after the account check fails nothing of the order is compared or stored."""
    decision = decide(with_(evidence={"buyer_id": MALLORY, "shipping_key": ("x", "y", "z")}))

    assert decision.failed_codes == ["evidence_other_account"]
    after = rules.CODES[rules.CODES.index("evidence_address_mismatch") :]
    for code in after:
        assert check(decision, code) == {
            "code": code,
            "result": SKIPPED,
            "params": {"needs": "evidence_other_account"},
        }


def test_a_skip_names_the_first_cause_however_deep():
    decision = decide(with_(evidence={"found": False, "order_id": None, "line": None}))

    assert decision.failed_codes == ["evidence_not_found"]
    skipped = [c for c in decision.checks if c["result"] == SKIPPED]
    assert {c["params"]["needs"] for c in skipped} == {"evidence_not_found"}
    assert len(skipped) == len(rules.CODES) - rules.CODES.index("evidence_is_original")


def test_no_line_of_the_product_skips_the_quantity_for_the_product_check():
    decision = decide(with_(evidence={"line": replace(EVIDENCE.line, product_id=8)}))

    assert decision.failed_codes == ["evidence_sku_mismatch"]
    assert check(decision, "evidence_sku_mismatch")["params"] == {"differs": "product"}
    assert check(decision, "evidence_quantity_mismatch")["params"] == {"needs": "evidence_sku_mismatch"}


def test_the_shipping_check_names_the_parts_that_differ():
    decision = decide(with_(evidence={"shipping_key": (SHIP[0], "13900139000", SHIP[2])}))

    assert decision.failed_codes == ["evidence_address_mismatch"]
    assert check(decision, "evidence_address_mismatch")["params"] == {"differs": ["phone"]}


def test_the_window_closed_message_uses_the_policys_own_days():
    decision = decide(with_(filed_at=END + timedelta(days=15)))

    assert decision.failed_codes == ["window_closed"]
    assert check(decision, "window_closed")["params"] == {"days": 15}


@pytest.mark.parametrize(
    "threshold,evidence_fen,reasons",
    [
        (None, 14_900, []),
        (999, 14_900, [("amount_above_threshold", {"amount_fen": 1_000, "threshold_fen": 999})]),
        (1_000, 14_900, []),
        (None, 7_000, [("steep_drop", {"evidence_fen": 7_000, "paid_fen": 15_900})]),
    ],
)
def test_review_reasons_carry_the_values_they_compared(threshold, evidence_fen, reasons):
    decision = decide(
        with_(
            insured={"review_threshold_fen": threshold},
            evidence={"line": replace(EVIDENCE.line, paid_fen=evidence_fen)},
        )
    )

    assert [(r.code, r.params) for r in decision.review_reasons] == reasons
    assert decision.state == (ClaimState.IN_REVIEW if reasons else ClaimState.APPROVED)


def test_another_kind_of_evidence_runs_only_the_checks_that_apply():
    """A price record (an observed price, not an order) has no account, address, quantity or
    single use of its own: those checks are left out, and the price check needs only the specs."""
    record = Evidence(
        number="PR-1",
        kind="price_record",
        created_at=END + timedelta(days=1),
        line=EvidenceLine(product_id=7, specs_key="尺码=M;颜色=黑色", quantity=1, paid_fen=14_900),
    )

    decision = decide(replace(FACTS, evidence=record))

    left_out = {
        "evidence_other_account",
        "evidence_address_mismatch",
        "evidence_quantity_mismatch",
        "evidence_already_used",
    }
    assert list(results(decision)) == [code for code in rules.CODES if code not in left_out]
    assert decision.state == ClaimState.APPROVED
    assert decision.compensation_fen == 1_000
    assert decision.evidence_order_id is None


def test_the_checks_need_only_earlier_checks():
    """The list is evaluated in order, so a check can need only one listed before it."""
    seen: set[str] = set()
    for rule in rules.CHECKS:
        assert set(rule.needs) <= seen, rule.code
        seen.add(rule.code)
