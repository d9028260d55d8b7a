"""Review reasons: a claim that passes every check but needs a person first. The fraud signals
(风控, SPEC "Fraud signals") and the review threshold, each with the values it compared, kept with
the decision and shown to staff and the seller in words (never to the buyer)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from claims.facts import ORDER, RECORD, Facts
from core.money import format_fen
from shops.models import Platform, PriceSource

# --- review reasons: a claim that passes every check but needs a person first -----------------
#
# Each returns the values it compared when staff must look (None when they need not). Add a
# reason by adding a ``ReviewRule`` to ``REVIEW_RULES``.


@dataclass(frozen=True)
class ReviewRule:
    code: str
    message: Promise
    # (facts, compensation in fen) → the values compared when staff must look, else None
    test: Callable[[Facts, int], dict[str, Any] | None]
    # Those values in words, ``%(name)s`` each (a name ending in ``_fen`` is shown in yuan), or
    # a function of them when the words depend on a value.
    detail: Promise | Callable[[dict[str, Any]], str] | None = None


def _above_threshold(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    threshold = f.insured.review_threshold_fen
    if threshold is None or amount_fen <= threshold:
        return None
    return {"amount_fen": amount_fen, "threshold_fen": threshold}


def _steep_drop(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """The evidence price is below paid × (1 − the policy's steep-drop share); 5000 bp = half."""
    evidence, paid = f.evidence.line.paid_fen, f.insured.paid_fen
    share_bp = f.risk.thresholds.steep_drop_bp
    steep = evidence * 10_000 < paid * (10_000 - share_bp)
    return {"evidence_fen": evidence, "paid_fen": paid} if steep else None


def _brief_price(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """The list price the evidence order was placed at went back up within the policy's minutes."""
    price = f.risk.evidence_list_price
    if price is None or price.ended_at is None or price.next_price_fen <= price.price_fen:
        return None
    lasted = price.ended_at - price.set_at
    limit = f.risk.thresholds.brief_price_minutes
    if lasted > timedelta(minutes=limit):
        return None
    return {
        "price_fen": price.price_fen,
        "next_price_fen": price.next_price_fen,
        "minutes": max(1, round(lasted.total_seconds() / 60)),
        "limit": limit,
    }


def _linked_account(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """The evidence order came from the seller's own account, or ships to the seller's phone or
    address (the seller's addresses as a buyer)."""
    risk, evidence = f.risk, f.evidence
    if evidence.kind != ORDER or risk.seller_user_id is None:
        return None
    if risk.seller_user_id in (evidence.buyer_id, f.claimant_id):
        return {"link": "account", "value": risk.seller_username}
    _recipient, phone, address = evidence.shipping_key or ("", "", "")
    if phone and phone in risk.seller_phones:
        return {"link": "phone", "value": phone}
    if address and address in risk.seller_addresses:
        return {"link": "address", "value": address}
    return None


def _shared_evidence(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """One evidence order cited by the claims of several buyers within the product's hours."""
    thresholds, claimants = f.risk.thresholds, f.risk.evidence_claimants
    if f.evidence.kind != ORDER or claimants < thresholds.shared_evidence_claims:
        return None
    return {"number": f.evidence.number, "claimants": claimants, "hours": thresholds.shared_evidence_hours}


def _shared_price_record(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """One order line's actual price (a single cheap sale) cited by the claims of several buyers
    within the product's hours: the staged-sale pattern, where one cheap order is placed to prove
    a drop for many.

    Only a record of one order line counts. A public price (a seller's list-price change, a
    campaign price, a shop-wide coupon) is open to anyone, so many buyers citing it is what
    一键理赔 and 自动理赔 are for, and it never fires. The values name the record (platform, shop,
    time, price; its id for staff), never the order or the buyer behind it.
    """
    thresholds, claimants, record = f.risk.thresholds, f.risk.evidence_claimants, f.risk.evidence_record
    if f.evidence.kind != RECORD or record is None or record.source != PriceSource.ORDER_LINE:
        return None
    if claimants < thresholds.shared_evidence_claims:
        return None
    return {
        "record": record.record_id,
        "platform": record.platform,
        "shop": record.shop,
        "observed_at": timezone.localtime(record.observed_at).strftime("%Y-%m-%d %H:%M"),
        "price_fen": record.unit_price_fen,
        "claimants": claimants,
        "hours": thresholds.shared_evidence_hours,
    }


def _new_account_burst(f: Facts, amount_fen: int) -> dict[str, Any] | None:
    """The claimant's account was created after the insured line's campaign started, and accounts
    as new filed at least the product's number of claims on that campaign within its hours, up to
    and including this one. New buyers one by one are welcome; a crowd of fresh accounts claiming
    at once is the pattern of accounts made to claim."""
    risk, thresholds = f.risk, f.risk.thresholds
    if risk.claimant_joined_at is None or risk.campaign_starts_at is None:
        return None
    if risk.claimant_joined_at <= risk.campaign_starts_at:
        return None
    if risk.new_account_claims < thresholds.new_account_burst_claims:
        return None
    return {
        "claims": risk.new_account_claims,
        "hours": thresholds.new_account_burst_hours,
        "limit": thresholds.new_account_burst_claims,
        "joined_at": timezone.localtime(risk.claimant_joined_at).strftime("%Y-%m-%d %H:%M"),
        "campaign_starts_at": timezone.localtime(risk.campaign_starts_at).strftime("%Y-%m-%d %H:%M"),
    }


def _shared_record_detail(values: dict[str, Any]) -> str:
    shown = {**values, "platform": force_str(Platform(values["platform"]).label)}
    return (
        force_str(
            _(
                "%(platform)s「%(shop)s」%(observed_at)s 的成交价 %(price_fen)s(成交价记录 #%(record)s)"
                "在 %(hours)s 小时内被 %(claimants)s 个买家的理赔引用。"
            )
        )
        % shown
    )


LINK_WORDS: dict[str, Promise] = {
    "account": _("举证订单由商家本人的账号下单(%(value)s)。"),
    "phone": _("举证订单的收货手机号与商家的联系电话相同(%(value)s)。"),
    "address": _("举证订单的收货地址与商家的地址相同(%(value)s)。"),
}


def _linked_detail(values: dict[str, Any]) -> str:
    words = LINK_WORDS.get(values.get("link"))
    return force_str(words) % values if words is not None else ""


REVIEW_RULES: list[ReviewRule] = [
    ReviewRule(
        "amount_above_threshold",
        _("赔付金额超过人工审核阈值。"),
        _above_threshold,
        _("赔付金额 %(amount_fen)s,人工审核阈值 %(threshold_fen)s。"),
    ),
    ReviewRule(
        "steep_drop",
        _("降价幅度超过一半,需人工核实。"),
        _steep_drop,
        _("举证价格 %(evidence_fen)s,原订单实付 %(paid_fen)s。"),
    ),
    ReviewRule(
        "brief_price",
        _("举证价格只存在了很短时间,需人工核实。"),
        _brief_price,
        _("售价 %(price_fen)s 只持续了 %(minutes)s 分钟(阈值 %(limit)s 分钟)就改回 %(next_price_fen)s。"),
    ),
    ReviewRule(
        "shared_evidence",
        _("同一举证订单被多个买家用于理赔,需人工核实。"),
        _shared_evidence,
        _("举证订单 %(number)s 在 %(hours)s 小时内被 %(claimants)s 个买家的理赔引用。"),
    ),
    ReviewRule(
        "shared_price_record",
        _("同一笔成交价记录被多个买家用于理赔,需人工核实。"),
        _shared_price_record,
        _shared_record_detail,
    ),
    ReviewRule(
        "new_account_burst",
        _("活动开始后注册的账号集中理赔,需人工核实。"),
        _new_account_burst,
        _(
            "买家账号注册于 %(joined_at)s,晚于活动开始 %(campaign_starts_at)s;"
            "%(hours)s 小时内此类账号对该活动理赔 %(claims)s 笔(阈值 %(limit)s 笔)。"
        ),
    ),
    ReviewRule(
        "linked_account",
        _("举证订单来自与商家关联的账号,需人工核实。"),
        _linked_account,
        _linked_detail,
    ),
]
REVIEW_BY_CODE: dict[str, ReviewRule] = {rule.code: rule for rule in REVIEW_RULES}


def review_message(code: str) -> str:
    rule = REVIEW_BY_CODE.get(code)
    return force_str(rule.message) if rule else code


def review_detail(code: str, params: dict[str, Any] | None) -> str:
    """The values a review reason compared, in the reader's language ("" when none were kept)."""
    rule = REVIEW_BY_CODE.get(code)
    if rule is None or rule.detail is None or not params:
        return ""
    shown = {name: format_fen(value) if name.endswith("_fen") else value for name, value in params.items()}
    try:
        return rule.detail(shown) if callable(rule.detail) else force_str(rule.detail) % shown
    except (KeyError, TypeError, ValueError):
        return ""
