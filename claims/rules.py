"""Adjudication (判责) checks: one declarative list, SPEC's table in order.

Each check has a code, its messages (failed, passed, and a few words that say the failure in a
hint or in the skip of a later check), the predicate, and what it needs: the checks that must have
passed for it to mean anything. A check whose need failed is skipped and names that check
("未检查:举证订单不存在。"). The checks read facts only (claims/facts.py), never the clock or the
database, so adjudicating late or twice gives the same answer, and the buyer's hints before filing
and the staff's comparison run the same evidence checks without a claim.

To add a check, add a ``Check`` to ``CHECKS``; to add a kind of evidence, set ``kinds`` on the
checks that do not apply to it. The values a check compared go in its params (shown to staff; the
messages quote only what the claimant may see).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from claims.facts import ORDER, RECORD, Facts, insured_facts, order_evidence
from claims.review_rules import REVIEW_RULES, review_detail, review_message  # noqa: F401 - one place to read
from core.money import format_fen
from insurance.models import Policy
from orders.models import OrderLine, OrderState

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Skip:
    """A predicate's answer when the facts it compares are missing: skipped, because of ``needs``."""

    needs: str


Outcome = bool | tuple[bool, dict[str, Any]] | Skip


@dataclass(frozen=True)
class Check:
    code: str
    failed: Promise
    passed: Promise
    short: Promise  # the failure in a few words
    test: Callable[[Facts], Outcome]
    needs: tuple[str, ...] = ()
    evidence: bool = False  # about the evidence: also run before filing (hints, staff comparison)
    kinds: frozenset[str] | None = None  # the evidence kinds it applies to; None: every kind
    # (failed, passed) for a price record as evidence, where the words above speak of an order
    record_words: tuple[Promise, Promise] | None = None


def _trade_succeeded(f: Facts) -> Outcome:
    i = f.insured
    # The trade must have succeeded when the claim was filed: receipt confirmed before the worker
    # adjudicates does not make an early claim good.
    ok = (
        i.order_state == OrderState.SUCCEEDED
        and i.succeeded_at is not None
        and i.succeeded_at <= f.filed_at
        and i.refunded_fen < i.paid_fen
        and not i.policy_voided
    )
    return ok, {"state": i.order_state, "refunded": i.refunded_fen, "paid": i.paid_fen}


def _line_of_the_product(f: Facts) -> bool:
    return f.evidence.line is not None and f.evidence.line.product_id == f.insured.product_id


def _same_product_and_specs(f: Facts) -> Outcome:
    line = f.evidence.line
    if not _line_of_the_product(f):
        return False, {"differs": "product"}
    same = line.specs_key == f.insured.specs_key
    return same, {} if same else {
        "differs": "specs",
        "evidence": line.specs_key,
        "insured": f.insured.specs_key,
    }


def _same_shipping(f: Facts) -> Outcome:
    parts = ("recipient", "phone", "address")
    differs = [
        p for p, a, b in zip(parts, f.evidence.shipping_key, f.insured.shipping_key, strict=True) if a != b
    ]
    return not differs, {"differs": differs} if differs else {}


def _same_quantity(f: Facts) -> Outcome:
    if not _line_of_the_product(f):
        return Skip("evidence_sku_mismatch")
    return f.evidence.line.quantity == f.insured.quantity, {
        "evidence": f.evidence.line.quantity,
        "insured": f.insured.quantity,
    }


def _placed_in_window(f: Facts) -> Outcome:
    return f.insured.window_contains(f.evidence.created_at)


def _price_dropped(f: Facts) -> Outcome:
    evidence, paid = f.evidence.line.paid_fen, f.insured.paid_fen
    return evidence < paid, {
        "evidence": format_fen(evidence),
        "paid": format_fen(paid),
        "difference": format_fen(max(paid - evidence, 0)),
    }


def compensation(*, paid_fen: int, refunded_fen: int, difference_fen: int, cap_fen: int | None) -> int:
    """The payout: the price difference, reduced in proportion to any partial refund (rounded
    down to the fen), never above what was paid, and within the coverage's per-claim cap."""
    if paid_fen <= 0 or difference_fen <= 0:
        return 0
    amount = min(difference_fen, paid_fen) * (paid_fen - refunded_fen) // paid_fen
    if cap_fen is not None:
        amount = min(amount, cap_fen)
    return max(amount, 0)


def compensation_for(f: Facts) -> int:
    """What the evidence's price difference pays on the insured line today."""
    return compensation(
        paid_fen=f.insured.paid_fen,
        refunded_fen=f.insured.refunded_fen,
        difference_fen=f.insured.paid_fen - f.evidence.line.paid_fen,
        cap_fen=f.insured.cap_fen,
    )


def _something_to_pay(f: Facts) -> Outcome:
    amount = compensation_for(f)
    return amount > 0, {
        "amount": format_fen(amount),
        "difference": format_fen(f.insured.paid_fen - f.evidence.line.paid_fen),
        "refunded": format_fen(f.insured.refunded_fen),
    }


CHECKS: list[Check] = [
    Check(
        "not_insured",
        _("该订单商品没有保价保单。"),
        _("订单商品已投保价格保障保险。"),
        _("没有保单"),
        lambda f: True,  # a claim exists only for an insured line (claim_file refuses the others)
    ),
    Check(
        "campaign_excluded",
        _("本次活动不支持保价理赔(如双11订单)。"),
        _("活动支持保价理赔。"),
        _("活动不支持保价理赔"),
        lambda f: not f.insured.campaign_excluded,
    ),
    Check(
        "trade_not_successful",
        _("原订单未交易成功,或已退款/关闭。"),
        _("原订单交易成功。"),
        _("原订单未交易成功"),
        _trade_succeeded,
    ),
    Check(
        "window_not_open",
        _("活动尚未结束,保价期还没有开始。"),
        _("申请时活动已结束。"),
        _("保价期未开始"),
        lambda f: f.insured.window_phase(f.filed_at) != "before",
    ),
    Check(
        "window_closed",
        _("申请时已超过保价期(活动结束后 %(days)s 天)。"),
        _("申请在保价期内。"),
        _("已过保价期"),
        lambda f: (f.insured.window_phase(f.filed_at) != "closed", {"days": f.insured.window_days}),
    ),
    Check(
        "already_claimed",
        _("该保单已有处理中或已赔付的理赔。"),
        _("该保单没有其他理赔。"),
        _("已有理赔"),
        lambda f: not f.other_claim_active,
    ),
    Check(
        "evidence_not_found",
        _("找不到订单号为 %(number)s 的订单。"),
        _("举证订单存在。"),
        _("举证订单不存在"),
        lambda f: (f.evidence.found, {"number": f.evidence.number}),
        evidence=True,
        record_words=(_("成交价记录不存在。"), _("成交价记录存在。")),
    ),
    Check(
        "evidence_is_original",
        _("举证订单不能是原订单本身。"),
        _("举证订单不是原订单。"),
        _("是原订单本身"),
        lambda f: f.evidence.order_id is None or f.evidence.order_id != f.insured.order_id,
        needs=("evidence_not_found",),
        evidence=True,
        record_words=(_("成交价记录来自原订单本身。"), _("成交价记录不是原订单本身。")),
    ),
    # Once this fails nothing more is compared: another buyer's order reveals nothing of itself.
    Check(
        "evidence_other_account",
        _("举证订单必须由同一账号下单。"),
        _("举证订单为同一账号下单。"),
        _("不是同一账号下单"),
        lambda f: f.evidence.buyer_id == f.claimant_id,
        needs=("evidence_not_found",),
        evidence=True,
        kinds=frozenset({ORDER}),
    ),
    Check(
        "evidence_address_mismatch",
        _("举证订单的收货信息(收货人、电话、地址)与原订单不一致。"),
        _("收货信息一致。"),
        _("收货信息不同"),
        _same_shipping,
        needs=("evidence_other_account",),
        evidence=True,
        kinds=frozenset({ORDER}),
    ),
    Check(
        "evidence_sku_mismatch",
        _("举证订单不是同一商品或规格不同。"),
        _("同一商品、同一规格。"),
        _("商品或规格不同"),
        _same_product_and_specs,
        needs=("evidence_not_found", "evidence_other_account"),
        evidence=True,
        record_words=(_("成交价记录不是同一商品或规格不同。"), _("同一商品、同一规格。")),
    ),
    Check(
        "evidence_quantity_mismatch",
        _("举证订单的数量(%(evidence)s)与原订单(%(insured)s)不同。"),
        _("数量相同。"),
        _("数量不同"),
        _same_quantity,
        needs=("evidence_other_account",),
        evidence=True,
        kinds=frozenset({ORDER}),
    ),
    Check(
        "evidence_outside_window",
        _("举证订单不是在保价期内下单的。"),
        _("举证订单在保价期内下单。"),
        _("不在保价期内下单"),
        _placed_in_window,
        needs=("evidence_not_found", "evidence_other_account"),
        evidence=True,
        record_words=(_("成交价记录不在保价期内。"), _("成交价记录在保价期内。")),
    ),
    Check(
        "evidence_already_used",
        _("该举证订单已用于其他理赔。"),
        _("举证订单未被其他理赔使用。"),
        _("已用于其他理赔"),
        lambda f: not f.evidence.used_elsewhere,
        needs=("evidence_other_account",),
        evidence=True,
        kinds=frozenset({ORDER}),
    ),
    # The whole line is compared, so only the same specs and the same quantity say anything.
    Check(
        "no_price_drop",
        _("举证订单价格 %(evidence)s 不低于原订单实付款 %(paid)s。"),
        _("价格降低 %(difference)s。"),
        _("价格未降低"),
        _price_dropped,
        needs=("evidence_sku_mismatch", "evidence_quantity_mismatch"),
        evidence=True,
        record_words=(
            _("同款成交价按相同数量计 %(evidence)s,不低于原订单实付款 %(paid)s。"),
            _("价格降低 %(difference)s。"),
        ),
    ),
    Check(
        "no_compensation",
        _("按原订单已退款的比例折算后,赔付金额为 ¥0.00(差价 %(difference)s,已退款 %(refunded)s)。"),
        _("赔付金额大于零。"),
        _("赔付金额为零"),
        _something_to_pay,
        needs=("trade_not_successful", "no_price_drop"),
        evidence=True,
    ),
]
BY_CODE: dict[str, Check] = {check.code: check for check in CHECKS}
CODES = [check.code for check in CHECKS]


def _applies(check: Check, facts: Facts, evidence_only: bool) -> bool:
    if evidence_only and not check.evidence:
        return False
    return check.kinds is None or facts.evidence.kind in check.kinds


def _outcome(check: Check, facts: Facts, causes: dict[str, str | None]) -> dict[str, Any]:
    for need in check.needs:
        if need in causes and causes[need] is not None:  # a need not run (another kind) is no need
            return {"code": check.code, "result": SKIPPED, "params": {"needs": causes[need]}}
    outcome = check.test(facts)
    if isinstance(outcome, Skip):
        return {
            "code": check.code,
            "result": SKIPPED,
            "params": {"needs": causes.get(outcome.needs) or outcome.needs},
        }
    ok, params = outcome if isinstance(outcome, tuple) else (outcome, {})
    if check.record_words is not None and facts.evidence.kind == RECORD:
        params = {**params, "kind": RECORD}  # read in the record's words
    return {"code": check.code, "result": PASSED if ok else FAILED, "params": params}


def _cause(result: dict[str, Any]) -> str | None:
    """None for a pass, else the failed check behind the result."""
    if result["result"] == PASSED:
        return None
    return result["code"] if result["result"] == FAILED else result["params"]["needs"]


def evaluate(facts: Facts, *, evidence_only: bool = False) -> list[dict[str, Any]]:
    """Every check that applies, in order: ``{"code", "result", "params"}`` each. A skipped check's
    params name the failed check it needed (the first cause, however deep)."""
    results = []
    causes: dict[str, str | None] = {}  # code → None if it passed, else the failed check behind it
    for check in CHECKS:
        if not _applies(check, facts, evidence_only):
            continue
        result = _outcome(check, facts, causes)
        causes[check.code] = _cause(result)
        results.append(result)
    return results


def failed_check(code: str, **params: Any) -> dict[str, Any]:
    """A check failed by an event after adjudication (a refund), in the stored shape."""
    return {"code": BY_CODE[code].code, "result": FAILED, "params": params}


def check_message(check: dict[str, Any]) -> str:
    """A stored check in the reader's language. A skipped check says which check it needed."""
    rule = BY_CODE.get(check.get("code"))
    if rule is None:
        return ""
    params = check.get("params") or {}
    if check.get("result") == SKIPPED:
        needed = BY_CODE.get(params.get("needs"))
        if needed is None:  # stored before skips named their cause
            return force_str(_("未检查(前置条件不满足)。"))
        return force_str(_("未检查:%(reason)s。")) % {"reason": force_str(needed.short)}
    failed, passed = (
        rule.record_words
        if rule.record_words and params.get("kind") == RECORD
        else (rule.failed, rule.passed)
    )
    text = force_str(failed if check.get("result") == FAILED else passed)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


def evidence_hints(
    insured_line: OrderLine, candidate: OrderLine, policy: Policy, *, claimant_id: int | None = None
) -> list[dict[str, Any]]:
    """The evidence checks of ``candidate`` (a line of a possible evidence order) against the
    insured line, before any claim: what the buyer is warned about and what staff compare.

    The claimant is the insured order's buyer unless given. The caller loads the lines' orders,
    SKUs and listings, and the policy's coverage and campaign.
    """
    insured = insured_facts(policy, insured_line)
    facts = Facts(
        insured=insured,
        evidence=order_evidence(candidate.order, candidate),
        claimant_id=insured.buyer_id if claimant_id is None else claimant_id,
    )
    return evaluate(facts, evidence_only=True)


def hint_notes(checks: list[dict[str, Any]]) -> list[str]:
    """The failed checks in a few words each ("数量不同"), for a badge beside a candidate."""
    return [force_str(BY_CODE[c["code"]].short) for c in checks if c["result"] == FAILED]
