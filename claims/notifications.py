"""What the claims app tells people (消息中心): the kinds of notice it posts, and their words.

Registered with the notices app in ``ClaimsConfig.ready()``. Parameters are stored as values
(fen, ISO times, codes) and put into words when read, in the reader's language.
"""

from datetime import UTC
from typing import Any

from django.db import models
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Concat, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from claims.models import Claim, ClaimSource, ClaimState
from notices.kinds import BUYER, SELLER, NoticeKind, register
from notices.services import notice_post, notices_post_query
from shops.models import PRICE_WORDS, Platform, PriceSource


def _platform(code: Any) -> str:
    return str(Platform(code).label) if code in Platform.values else str(code or "")


def time_left(ends_at: Any) -> str:
    """Whole days and hours until ``ends_at`` (an ISO string or a datetime), or 'closed'."""
    moment = parse_datetime(ends_at) if isinstance(ends_at, str) else ends_at
    if moment is None:
        return "—"
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    seconds = int((moment - timezone.now()).total_seconds())
    if seconds <= 0:
        return str(_("已结束"))
    days, hours = divmod(seconds // 3600, 24)
    if days:
        return ngettext("%(days)d 天 %(hours)d 小时", "%(days)d 天 %(hours)d 小时", days) % {
            "days": days,
            "hours": hours,
        }
    return ngettext("%(hours)d 小时", "%(hours)d 小时", max(hours, 1)) % {"hours": max(hours, 1)}


def _drop_words(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "platform": _platform(params.get("platform")),
        "price_label": str(PRICE_WORDS.get(params.get("source"), PRICE_WORDS[PriceSource.ORDER_LINE])),
        "left": time_left(params.get("window_ends_at")),
    }


def _claim_words(params: dict[str, Any]) -> dict[str, Any]:
    from claims import rules

    state = params.get("state")
    reasons = [rules.check_message({"code": c, "result": rules.FAILED}) for c in params.get("failed", [])]
    if state == ClaimState.REJECTED:
        reason = " ".join(reasons) or params.get("reason") or ""
    elif state == ClaimState.IN_REVIEW:
        reason = str(_("已转保险公司人工审核,请耐心等待。"))
    else:
        reason = params.get("reason") or ""
    return {
        "state_label": str(ClaimState(state).label) if state in ClaimState.values else str(state or ""),
        "reason": reason,
        "source_label": str(ClaimSource(params["source"]).label)
        if params.get("source") in ClaimSource.values
        else "",
    }


def _seller_words(params: dict[str, Any]) -> dict[str, Any]:
    source = params.get("source")
    return {
        "platform": _platform(params.get("platform")),
        "source_label": str(PriceSource(source).label) if source in PriceSource.values else "",
    }


KINDS = [
    NoticeKind(
        "drop_detected",
        BUYER,
        _("发现降价:%(product)s 可获赔 %(amount_fen)s"),
        _(
            "同款在%(platform)s「%(shop)s」%(price_label)s %(unit_price_fen)s(%(observed_at)s),"
            "您购买的「%(product)s」可获赔 %(amount_fen)s。保价期还剩 %(left)s,可一键理赔。"
        ),
        _drop_words,
    ),
    NoticeKind(
        "drop_raised",
        BUYER,
        _("发现更低价:%(product)s 可赔金额升至 %(amount_fen)s"),
        _(
            "同款在%(platform)s「%(shop)s」%(price_label)s %(unit_price_fen)s(%(observed_at)s),"
            "您购买的「%(product)s」可获赔金额升至 %(amount_fen)s。保价期还剩 %(left)s。"
        ),
        _drop_words,
    ),
    NoticeKind(
        "window_closing",
        BUYER,
        _("保价期即将结束:%(title)s 还可获赔 %(amount_fen)s"),
        _(
            "订单 %(order)s 的保价期还剩 %(left)s,发现的降价可获赔 %(amount_fen)s,尚未理赔。请在订单详情一键理赔。"
        ),
        _drop_words,
    ),
    NoticeKind(
        "claim_filed_auto",
        BUYER,
        _("已为您自动申请理赔 %(amount_fen)s"),
        _(
            "保价期即将结束,平台已用保价期内的最低成交价 %(unit_price_fen)s 为订单 %(order)s 自动申请理赔"
            "(理赔单号 %(claim)s),预计赔付 %(amount_fen)s。"
        ),
    ),
    NoticeKind(
        "claim_decided",
        BUYER,
        _("理赔结果:%(state_label)s(%(claim)s)"),
        _("订单 %(order)s 的理赔申请 %(claim)s:%(state_label)s。%(reason)s"),
        _claim_words,
    ),
    NoticeKind(
        "payout_credited",
        BUYER,
        _("理赔款 %(amount_fen)s 已到账"),
        _("理赔单 %(claim)s 的赔款 %(amount_fen)s 已打入您的支付宝余额。"),
    ),
    NoticeKind(
        "seller_drops",
        SELLER,
        _("价格变动触发 %(policies)s 份保单降价"),
        _(
            "%(platform)s「%(shop)s」的%(source_label)s %(unit_price_fen)s 低于买家实付款:"
            "%(policies)s 份保单可理赔,预计赔付 %(amount_fen)s。"
        ),
        _seller_words,
    ),
    NoticeKind(
        "seller_claim_filed",
        SELLER,
        _("收到理赔申请 %(claim)s"),
        _("订单 %(order)s 的买家提交了理赔申请 %(claim)s(%(source_label)s)。"),
        _claim_words,
    ),
]


def register_kinds() -> None:
    register(*KINDS)


# --- posting: each called inside the transaction of its event ---------------------------------


def _order_link(claim: Claim) -> str:
    return f"/orders/{claim.policy.order_line.order.number}/"


def tell_claim_filed(claim: Claim) -> None:
    """The seller hears of every claim on their policies."""
    notice_post(
        user_id=claim.policy.seller.user_id,
        kind="seller_claim_filed",
        key=f"claim_filed:{claim.pk}",
        params={"claim": claim.number, "order": claim.policy.order_line.order.number, "source": claim.source},
        link="/seller/claims/",
    )


def tell_claim_decided(claim: Claim) -> None:
    """The buyer hears the decision with its reason: approved, rejected, or sent to staff."""
    if claim.state not in (ClaimState.APPROVED, ClaimState.REJECTED, ClaimState.IN_REVIEW):
        return
    failed = [c["code"] for c in claim.checks if c.get("result") == "failed"]
    notice_post(
        user_id=claim.buyer_id,
        kind="claim_decided",
        key=f"claim_decided:{claim.pk}:{claim.state}",
        params={
            "claim": claim.number,
            "order": claim.policy.order_line.order.number,
            "state": claim.state,
            "failed": failed,
            "reason": claim.decision_reason,
            "amount_fen": claim.compensation_fen,
        },
        link=_order_link(claim),
    )


def tell_payouts(claims: QuerySet[Claim]) -> int:
    """Settlement's batch: one 'payout credited' notice per paid claim, set-based."""
    return notices_post_query(
        queryset=claims,
        kind="payout_credited",
        user=F("buyer_id"),
        key=Concat(Value("payout:"), F("pk"), output_field=models.CharField()),
        params=JSONObject(
            claim=F("number"), amount_fen=F("compensation_fen"), order=F("policy__order_line__order__number")
        ),
        link=Concat(Value("/orders/"), F("policy__order_line__order__number"), Value("/")),
    )
