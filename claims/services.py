"""Claims and payouts: filing, adjudication, staff review, settlement and clawback."""

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.models import Account, AccountKind, TransferKind
from alipay.services import (
    Leg,
    TransferSpec,
    insurer_account,
    transfer_post,
    transfers_post_many,
    user_account,
)
from claims import rules
from claims.models import ACTIVE_STATES, Claim, ClaimState, Payout
from core.errors import InvalidInput, ServiceError
from core.numbers import new_number
from core.queue import enqueue_on_commit
from core.services import audit_record, audit_record_many
from insurance.models import Policy
from insurance.services import policy_mark_claimed
from orders.models import OrderLine


class ClaimRefused(ServiceError):
    pass


def _normalise_number(raw: str) -> str:
    number = unicodedata.normalize("NFKC", raw or "").strip()
    if not number or len(number) > 32 or not number.isascii() or not number.isalnum():
        raise InvalidInput(
            "invalid_evidence_number", _("请输入正确的举证订单号(只含数字或字母,最多 32 位)。")
        )
    return number


def _adjudicate_later(claim: Claim) -> None:
    from claims import tasks

    enqueue_on_commit(tasks.claim_adjudicate, claim.pk)


def _settle_later() -> None:
    from claims import tasks

    enqueue_on_commit(tasks.claims_settle)


def claim_file(*, order_line: OrderLine, evidence_order_number: str, buyer: AbstractBaseUser) -> Claim:
    """申请理赔: file a claim for an insured order line with an evidence order's number.

    The claim is stored at once and adjudicated by a worker after commit. Filing the same
    evidence again while the claim is in flight returns that claim.
    """
    number = _normalise_number(evidence_order_number)
    if order_line.order.buyer_id != buyer.pk:
        raise ClaimRefused("not_found", _("订单不存在。"))
    with transaction.atomic():
        policy = Policy.objects.select_for_update().filter(order_line=order_line).first()
        if policy is None:
            raise ClaimRefused("not_insured", rules.MESSAGES["not_insured"][0])
        active = Claim.objects.filter(policy=policy, state__in=ACTIVE_STATES).first()
        if active is not None:
            if active.evidence_order_number == number and active.state != ClaimState.PAID:
                return active
            raise ClaimRefused("already_claimed", rules.MESSAGES["already_claimed"][0])
        try:
            with transaction.atomic():
                claim = Claim.objects.create(
                    number=new_number("LP"),
                    policy=policy,
                    buyer=buyer,
                    evidence_order_number=number,
                    filed_at=timezone.now(),
                )
        except IntegrityError:
            raise ClaimRefused("already_claimed", rules.MESSAGES["already_claimed"][0]) from None
        audit_record(
            subject=claim,
            action="claim_file",
            actor=buyer,
            to_state=claim.state,
            data={"evidence_order_number": number},
        )
        _adjudicate_later(claim)
    return claim


def claim_adjudicate(*, claim: Claim) -> Claim:
    """判责: run every check, store each result, and approve, reject or send to review.

    Only a 'submitted' claim is adjudicated; a repeat finds it decided and does nothing.
    """
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update()
            .select_related(
                "policy__coverage",
                "policy__order_line__order",
                "policy__order_line__sku__listing",
                "policy__order_line__campaign_item__campaign",
            )
            .get(pk=claim.pk)
        )
        if claim.state != ClaimState.SUBMITTED:
            return claim
        verdict = rules.evaluate(claim)
        claim.checks = verdict.checks
        claim.decided_at = timezone.now()
        # The evidence order is linked only to a claim that may use it (the unique constraint
        # keeps one evidence order behind one live claim).
        if verdict.passed:
            line = claim.policy.order_line
            coverage = claim.policy.coverage
            difference = line.paid_fen - verdict.evidence_line.paid_fen
            amount = rules.compensation(
                paid_fen=line.paid_fen,
                refunded_fen=line.refunded_fen,
                difference_fen=difference,
                cap_fen=coverage.per_claim_cap_fen,
            )
            claim.price_difference_fen = difference
            claim.compensation_fen = amount or None
            claim.evidence_order = verdict.evidence_order
            claim.review_reasons = rules.review_reasons(
                amount_fen=amount,
                paid_fen=line.paid_fen,
                evidence_fen=verdict.evidence_line.paid_fen,
                threshold_fen=coverage.review_threshold_fen,
            )
            if not amount:
                claim.state = ClaimState.REJECTED
            elif claim.review_reasons:
                claim.state = ClaimState.IN_REVIEW
            else:
                claim.state = ClaimState.APPROVED
        else:
            claim.state = ClaimState.REJECTED
        claim.save(
            update_fields=[
                "checks",
                "decided_at",
                "price_difference_fen",
                "compensation_fen",
                "evidence_order",
                "review_reasons",
                "state",
            ]
        )
        audit_record(
            subject=claim,
            action="claim_adjudicate",
            from_state=ClaimState.SUBMITTED,
            to_state=claim.state,
            reason=",".join(verdict.failed_codes or claim.review_reasons),
        )
        if claim.state == ClaimState.APPROVED:
            _settle_later()
    return claim


def _staff_decide(*, claim: Claim, staff: AbstractBaseUser, reason: str, to_state: str) -> Claim:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", _("请填写审核意见。"))
    if len(reason) > 2_000:
        raise InvalidInput("reason_too_long", _("审核意见不能超过 2000 字。"))
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.state == to_state and claim.decided_by_id == staff.pk:
            return claim
        if claim.state != ClaimState.IN_REVIEW:
            raise ClaimRefused("claim_not_in_review", _("只有人工审核中的理赔可以审核。"))
        claim.state = to_state
        claim.decided_by = staff
        claim.decided_at = timezone.now()
        claim.decision_reason = reason
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        audit_record(
            subject=claim,
            action="claim_review",
            actor=staff,
            from_state=ClaimState.IN_REVIEW,
            to_state=to_state,
            reason=reason,
        )
        if to_state == ClaimState.APPROVED:
            _settle_later()
    return claim


def claim_review_approve(*, claim: Claim, staff: AbstractBaseUser, reason: str) -> Claim:
    return _staff_decide(claim=claim, staff=staff, reason=reason, to_state=ClaimState.APPROVED)


def claim_review_reject(*, claim: Claim, staff: AbstractBaseUser, reason: str) -> Claim:
    return _staff_decide(claim=claim, staff=staff, reason=reason, to_state=ClaimState.REJECTED)


def _lock_batch(batch_size: int) -> list[Claim]:
    queryset = Claim.objects.filter(state=ClaimState.APPROVED).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        # Concurrent settlers each take their own batch instead of queueing on the same rows.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(
        queryset.select_related("policy__coverage__insurer").only(
            "pk",
            "number",
            "buyer_id",
            "compensation_fen",
            "policy_id",
            "policy__coverage__insurer__code",
            "policy__coverage__insurer__name",
        )[:batch_size]
    )


def _buyer_accounts(user_ids: set[int]) -> dict[int, Account]:
    existing = {a.user_id: a for a in Account.objects.filter(kind=AccountKind.BUYER, user_id__in=user_ids)}
    missing = user_ids - existing.keys()
    if missing:
        Account.objects.bulk_create(
            [
                Account(code=f"buyer:{uid}", kind=AccountKind.BUYER, user_id=uid, name=f"buyer:{uid}")
                for uid in missing
            ],
            ignore_conflicts=True,
        )
        existing.update(
            {a.user_id: a for a in Account.objects.filter(kind=AccountKind.BUYER, user_id__in=missing)}
        )
    return existing


def claims_settle_batch(*, batch_size: int | None = None, now: datetime | None = None) -> int:
    """Pay one batch of approved claims into buyers' balances, exactly once.

    The approved rows are locked (skipping rows another settler holds), paid with set-based
    inserts, and moved to 'paid' in the same transaction. The one-to-one payout per claim and the
    unique transfer key make a second payout impossible even if two settlers raced.
    """
    batch_size = batch_size or settings.BAOJIA["BATCH_SIZE"]
    now = now or timezone.now()
    with transaction.atomic():
        claims = _lock_batch(batch_size)
        if not claims:
            return 0
        buyers = _buyer_accounts({c.buyer_id for c in claims})
        insurers: dict[str, Account] = {}
        specs, payouts = [], []
        for claim in claims:
            insurer = claim.policy.coverage.insurer
            if insurer.code not in insurers:
                insurers[insurer.code] = insurer_account(code=insurer.code, name=insurer.name)
            spec = TransferSpec(
                key=f"payout:claim:{claim.pk}",
                kind=TransferKind.PAYOUT,
                legs=[
                    Leg(insurers[insurer.code], -claim.compensation_fen),
                    Leg(buyers[claim.buyer_id], claim.compensation_fen),
                ],
                memo=f"价格保障保险理赔 {claim.number}",
                reference=f"claim:{claim.pk}",
            )
            specs.append(spec)
        transfers_post_many(specs)
        from alipay.models import Transfer

        transfer_ids = dict(Transfer.objects.filter(key__in=[s.key for s in specs]).values_list("key", "pk"))
        for claim, spec in zip(claims, specs, strict=True):
            payouts.append(
                Payout(
                    claim_id=claim.pk, amount_fen=claim.compensation_fen, transfer_id=transfer_ids[spec.key]
                )
            )
        Payout.objects.bulk_create(payouts, batch_size=2_000)
        ids = [c.pk for c in claims]
        Claim.objects.filter(pk__in=ids, state=ClaimState.APPROVED).update(state=ClaimState.PAID, paid_at=now)
        audit_record_many(
            model=Claim,
            object_ids=ids,
            action="claim_settle",
            from_state=ClaimState.APPROVED,
            to_state=ClaimState.PAID,
        )
        policy_mark_claimed(policy_ids=[c.policy_id for c in claims], now=now)
    return len(claims)


def claims_settle(*, batch_size: int | None = None, max_batches: int | None = None) -> int:
    paid = batches = 0
    while max_batches is None or batches < max_batches:
        done = claims_settle_batch(batch_size=batch_size)
        if not done:
            break
        paid += done
        batches += 1
    return paid


def claims_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-queue work the broker may have lost: claims still 'submitted' after a while, and any
    approved claims waiting for settlement."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.BAOJIA["STUCK_CLAIM_SECONDS"])
    from claims import tasks

    stuck = list(
        Claim.objects.filter(state=ClaimState.SUBMITTED, filed_at__lte=stale).values_list("pk", flat=True)[
            :5_000
        ]
    )
    for pk in stuck:
        tasks.claim_adjudicate.delay(pk)
    approved = Claim.objects.filter(state=ClaimState.APPROVED).exists()
    if approved:
        tasks.claims_settle.delay()
    return {"requeued": len(stuck), "settle": int(approved)}


def claims_after_refund(*, line: OrderLine, amount_fen: int, full_order: bool) -> None:
    """Subscribed to order refunds: claims still in flight on a fully refunded line are rejected;
    a payout already made is clawed back in proportion to what was refunded."""
    policy = Policy.objects.filter(order_line=line).select_related("coverage__insurer").first()
    if policy is None:
        return
    if line.refunded_fen >= line.paid_fen:
        for claim in Claim.objects.select_for_update().filter(
            policy=policy, state__in=[ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.APPROVED]
        ):
            from_state = claim.state
            claim.state = ClaimState.REJECTED
            claim.decided_at = timezone.now()
            claim.decision_reason = str(rules.MESSAGES["trade_not_successful"][0])
            claim.checks = [
                *claim.checks,
                {"code": "trade_not_successful", "result": rules.FAILED, "params": {}},
            ]
            claim.save(update_fields=["state", "decided_at", "decision_reason", "checks"])
            audit_record(
                subject=claim,
                action="claim_reject_refund",
                from_state=from_state,
                to_state=claim.state,
                reason="order refunded",
            )
    payout = Payout.objects.select_for_update().filter(claim__policy=policy).select_related("claim").first()
    if payout is None:
        return
    allowed = rules.compensation(
        paid_fen=line.paid_fen,
        refunded_fen=line.refunded_fen,
        difference_fen=payout.claim.price_difference_fen or 0,
        cap_fen=policy.coverage.per_claim_cap_fen,
    )
    clawback = payout.amount_fen - payout.clawed_back_fen - allowed
    if clawback <= 0:
        return
    transfer_post(
        key=f"clawback:claim:{payout.claim_id}:{line.refunded_fen}",
        kind=TransferKind.CLAWBACK,
        legs=[
            Leg(user_account(user=line.order.buyer, kind=AccountKind.BUYER), -clawback),
            Leg(
                insurer_account(code=policy.coverage.insurer.code, name=policy.coverage.insurer.name),
                clawback,
            ),
        ],
        memo=f"理赔款追回 {payout.claim.number}",
        reference=f"claim:{payout.claim_id}",
    )
    payout.clawed_back_fen += clawback
    payout.save(update_fields=["clawed_back_fen"])
    audit_record(
        subject=payout.claim,
        action="payout_clawback",
        reason="order refunded after payout",
        data={"amount_fen": clawback},
    )
