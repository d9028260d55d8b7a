"""Adjudication (判责): each check has a code, a translated message, and its own stored result.

The checks read facts only (orders, policy, campaign, the claim's filing time), never the clock, so
adjudicating late or twice gives the same answer.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from claims.models import ACTIVE_STATES, Claim
from insurance.models import PolicyState
from orders.models import Order, OrderLine, OrderState

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"

# What each code means when the check fails (SPEC's table), and the line shown when it passes.
MESSAGES: dict[str, tuple[Any, Any]] = {
    "not_insured": (_("该订单商品没有保价保单。"), _("订单商品已投保价格保障保险。")),
    "campaign_excluded": (_("本次活动不支持保价理赔(如双11订单)。"), _("活动支持保价理赔。")),
    "trade_not_successful": (
        _("原订单未交易成功,或已退款/关闭。"),
        _("原订单交易成功。"),
    ),
    "window_not_open": (_("活动尚未结束,保价期还没有开始。"), _("申请时活动已结束。")),
    "window_closed": (_("申请时已超过保价期(活动结束后 %(days)s 天)。"), _("申请在保价期内。")),
    "already_claimed": (_("该保单已有处理中或已赔付的理赔。"), _("该保单没有其他理赔。")),
    "evidence_not_found": (_("找不到订单号为 %(number)s 的订单。"), _("举证订单存在。")),
    "evidence_is_original": (_("举证订单不能是原订单本身。"), _("举证订单不是原订单。")),
    "evidence_other_account": (_("举证订单必须由同一账号下单。"), _("举证订单为同一账号下单。")),
    "evidence_address_mismatch": (
        _("举证订单的收货信息(收货人、电话、地址)与原订单不一致。"),
        _("收货信息一致。"),
    ),
    "evidence_sku_mismatch": (_("举证订单不是同一商品或规格不同。"), _("同一商品、同一规格。")),
    "evidence_quantity_mismatch": (
        _("举证订单的数量(%(evidence)s)与原订单(%(insured)s)不同。"),
        _("数量相同。"),
    ),
    "evidence_outside_window": (_("举证订单不是在保价期内下单的。"), _("举证订单在保价期内下单。")),
    "evidence_already_used": (_("该举证订单已用于其他理赔。"), _("举证订单未被其他理赔使用。")),
    "no_price_drop": (
        _("举证订单价格 %(evidence)s 不低于原订单实付款 %(paid)s。"),
        _("价格降低 %(difference)s。"),
    ),
}
CODES = list(MESSAGES)

REVIEW_MESSAGES = {
    "amount_above_threshold": _("赔付金额超过人工审核阈值。"),
    "steep_drop": _("降价幅度超过一半,需人工核实。"),
}


def check_message(check: dict[str, Any]) -> str:
    failed, passed = MESSAGES[check["code"]]
    if check["result"] == SKIPPED:
        return force_str(_("未检查(前置条件不满足)。"))
    text = force_str(failed if check["result"] == FAILED else passed)
    try:
        return text % check.get("params", {})
    except (KeyError, TypeError, ValueError):
        return text


@dataclass
class Verdict:
    checks: list[dict[str, Any]] = field(default_factory=list)
    evidence_order: Order | None = None
    evidence_line: OrderLine | None = None

    def add(self, code: str, ok: bool | None, **params: Any) -> bool:
        result = SKIPPED if ok is None else PASSED if ok else FAILED
        self.checks.append({"code": code, "result": result, "params": params})
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(c["result"] == PASSED for c in self.checks)

    @property
    def failed_codes(self) -> list[str]:
        return [c["code"] for c in self.checks if c["result"] == FAILED]


def _evidence_line(evidence: Order, insured: OrderLine) -> OrderLine | None:
    """The evidence line for the same catalog product; the same specs first."""
    product_id = insured.sku.listing.product_id
    candidates = [line for line in evidence.lines.all() if line.sku.listing.product_id == product_id]
    candidates.sort(
        key=lambda line: (line.sku.specs_key != insured.sku.specs_key, line.quantity != insured.quantity)
    )
    return candidates[0] if candidates else None


def evaluate(claim: Claim) -> Verdict:
    policy = claim.policy
    line = policy.order_line
    order = line.order
    campaign = line.campaign_item.campaign
    verdict = Verdict()
    verdict.add("not_insured", True)
    verdict.add("campaign_excluded", not campaign.excluded_from_claims)
    verdict.add(
        "trade_not_successful",
        order.state == OrderState.SUCCEEDED
        and line.refunded_fen < line.paid_fen
        and policy.state != PolicyState.VOIDED,
    )
    verdict.add("window_not_open", claim.filed_at >= policy.window_starts_at)
    verdict.add("window_closed", claim.filed_at < policy.window_ends_at, days=policy.window_days)
    others = Claim.objects.filter(policy=policy, state__in=ACTIVE_STATES).exclude(pk=claim.pk)
    verdict.add("already_claimed", not others.exists())

    evidence = (
        Order.objects.filter(number=claim.evidence_order_number)
        .prefetch_related("lines__sku__listing")
        .first()
    )
    verdict.evidence_order = evidence
    if not verdict.add("evidence_not_found", evidence is not None, number=claim.evidence_order_number):
        for code in CODES[CODES.index("evidence_is_original") :]:
            verdict.add(code, None)
        return verdict
    verdict.add("evidence_is_original", evidence.pk != order.pk)
    verdict.add("evidence_other_account", evidence.buyer_id == claim.buyer_id)
    verdict.add("evidence_address_mismatch", evidence.shipping_key == order.shipping_key)
    ev_line = _evidence_line(evidence, line)
    verdict.evidence_line = ev_line
    same_sku = ev_line is not None and ev_line.sku.specs_key == line.sku.specs_key
    verdict.add("evidence_sku_mismatch", same_sku)
    if ev_line is None:
        verdict.add("evidence_quantity_mismatch", None)
    else:
        verdict.add(
            "evidence_quantity_mismatch",
            ev_line.quantity == line.quantity,
            evidence=ev_line.quantity,
            insured=line.quantity,
        )
    verdict.add(
        "evidence_outside_window",
        policy.window_starts_at <= evidence.created_at < policy.window_ends_at,
    )
    used = Claim.objects.filter(evidence_order=evidence, state__in=ACTIVE_STATES).exclude(pk=claim.pk)
    verdict.add("evidence_already_used", not used.exists())
    if ev_line is None or not same_sku:
        verdict.add("no_price_drop", None)
    else:
        from core.money import format_fen

        difference = line.paid_fen - ev_line.paid_fen
        verdict.add(
            "no_price_drop",
            difference > 0,
            evidence=format_fen(ev_line.paid_fen),
            paid=format_fen(line.paid_fen),
            difference=format_fen(max(difference, 0)),
        )
    return verdict


def compensation(*, paid_fen: int, refunded_fen: int, difference_fen: int, cap_fen: int | None) -> int:
    """The payout: the price difference, reduced in proportion to any partial refund (rounded
    down to the fen), never above what was paid, and within the policy's per-claim cap."""
    if paid_fen <= 0 or difference_fen <= 0:
        return 0
    amount = min(difference_fen, paid_fen) * (paid_fen - refunded_fen) // paid_fen
    if cap_fen is not None:
        amount = min(amount, cap_fen)
    return max(amount, 0)


def review_reasons(
    *, amount_fen: int, paid_fen: int, evidence_fen: int, threshold_fen: int | None
) -> list[str]:
    reasons = []
    if threshold_fen is not None and amount_fen > threshold_fen:
        reasons.append("amount_above_threshold")
    if evidence_fen * 2 < paid_fen:
        reasons.append("steep_drop")
    return reasons
