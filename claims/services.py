"""Claims and payouts: filing, adjudication, staff review, settlement and clawback."""

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alipay.models import Account, AccountKind, Transfer, TransferKind
from alipay.services import Leg, insurer_account, transfer_post, transfers_post_query, user_account
from claims import rules
from claims.decision import Decision, decide
from claims.errors import refusal
from claims.facts import claim_facts
from claims.models import ACTIVE_STATES, Claim, ClaimAction, ClaimState, Payout
from claims.notifications import tell_claim_decided, tell_claim_filed, tell_payouts
from claims.selectors import claims_of_insurers
from core.i18n import stored_text
from core.numbers import new_number
from core.queue import enqueue_on_commit
from core.services import audit_record, audit_record_query
from insurance.models import Insurer, Policy
from insurance.services import policies_mark_claimed
from orders.models import Order, OrderLine


def _normalise_number(raw: str) -> str:
    number = unicodedata.normalize("NFKC", raw if isinstance(raw, str) else "").strip()
    if not number or len(number) > 32 or not number.isascii() or not number.isalnum():
        raise refusal("invalid_evidence_number")
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
    evidence again while the claim is in flight returns that claim. A number no order has is
    refused at once (``evidence_not_found``): a typo leaves no rejected claim behind.
    """
    number = _normalise_number(evidence_order_number)
    if order_line.order.buyer_id != buyer.pk:
        raise refusal("not_found")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().filter(order_line=order_line).first()
        if policy is None:
            raise refusal("not_insured")
        policy.order_line = order_line  # the caller's instance (and what it holds): not read again
        active = Claim.objects.filter(policy=policy, state__in=ACTIVE_STATES).first()
        if active is not None:
            if active.evidence_order_number == number and active.state != ClaimState.PAID:
                return active
            raise refusal("already_claimed")
        if not Order.objects.filter(number=number).exists():
            raise refusal("evidence_not_found", number=number)
        # The policy's lock makes a second active claim impossible here; the unique index is the
        # last word all the same (no savepoint: refusing rolls the whole filing back).
        try:
            claim = Claim.objects.create(
                number=new_number("LP"),
                policy=policy,
                buyer=buyer,
                evidence_order_number=number,
                filed_at=timezone.now(),
            )
        except IntegrityError:
            raise refusal("already_claimed") from None
        audit_record(
            subject=claim,
            action=ClaimAction.FILE,
            actor=buyer,
            to_state=claim.state,
            data={"evidence_order_number": number},
        )
        _adjudicate_later(claim)
        tell_claim_filed(claim)
    return claim


def _claim_for_decision(pk: int) -> Claim:
    """The claim, locked with everything its facts are read from."""
    # Lock the insured line first, as a refund does (order → line → policy → claim): a refund
    # that lands now waits, and adjudication never reads a refunded amount about to change.
    line_id = Claim.objects.filter(pk=pk).values_list("policy__order_line_id", flat=True).get()
    OrderLine.objects.select_for_update().filter(pk=line_id).exists()
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related(
            "policy__coverage",
            "policy__order_line__order",
            "policy__order_line__sku__listing",
            "policy__order_line__campaign_item__campaign",
            "price_record__shop",
            "buyer",
        )
        .get(pk=pk)
    )


def _decision_apply(claim: Claim, decision: Decision) -> None:
    claim.state = decision.state
    claim.checks = decision.checks
    claim.decided_at = timezone.now()
    claim.price_difference_fen = decision.price_difference_fen
    claim.compensation_fen = decision.compensation_fen
    # The evidence order is linked only to a claim that may use it (the unique constraint
    # keeps one evidence order behind one live claim).
    claim.evidence_order_id = decision.evidence_order_id
    claim.review_reasons = [reason.code for reason in decision.review_reasons]
    if claim.state == ClaimState.IN_REVIEW:
        claim.review_started_at = claim.decided_at
    claim.save(
        update_fields=[
            "state",
            "checks",
            "decided_at",
            "price_difference_fen",
            "compensation_fen",
            "evidence_order",
            "review_reasons",
            "review_started_at",
        ]
    )
    audit_record(
        subject=claim,
        action=ClaimAction.ADJUDICATE,
        from_state=ClaimState.SUBMITTED,
        to_state=claim.state,
        reason=decision.why,
        data={"review": {reason.code: reason.params for reason in decision.review_reasons}}
        if decision.review_reasons
        else None,
    )


def claim_adjudicate(*, claim: Claim) -> Claim:
    """判责: decide from the facts (claims.decision), store every check's result, and approve,
    reject or send to review. Only a 'submitted' claim is adjudicated; a repeat does nothing."""
    with transaction.atomic():
        claim = _claim_for_decision(claim.pk)
        if claim.state != ClaimState.SUBMITTED:
            return claim
        _decision_apply(claim, decide(claim_facts(claim)))
        tell_claim_decided(claim)
        if claim.state == ClaimState.APPROVED:
            _settle_later()
    return claim


def _staff_decide(*, claim: Claim, staff: AbstractBaseUser, reason: str, to_state: str) -> Claim:
    if not (staff.is_active and staff.is_staff and staff.has_perm("claims.change_claim")):
        raise refusal("not_staff")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise refusal("reason_required")
    if len(reason) > 2_000:
        raise refusal("reason_too_long")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        # An officer decides only the claims of the insurers they work for; to anybody else the
        # claim does not exist. And nobody decides a claim they filed themselves as a buyer.
        if not claims_of_insurers(staff).filter(pk=claim.pk).exists():
            raise refusal("claim_not_found")
        if claim.buyer_id == staff.pk:
            raise refusal("own_claim")
        # A repeat finds its own decision, even when settlement has paid the approved claim since.
        done = {to_state, ClaimState.PAID} if to_state == ClaimState.APPROVED else {to_state}
        if claim.state in done and claim.decided_by_id == staff.pk:
            return claim
        if claim.state != ClaimState.IN_REVIEW:
            raise refusal("claim_not_in_review")
        claim.state = to_state
        claim.decided_by = staff
        claim.decided_at = timezone.now()
        claim.decision_reason = reason
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        audit_record(
            subject=claim,
            action=ClaimAction.REVIEW,
            actor=staff,
            from_state=ClaimState.IN_REVIEW,
            to_state=to_state,
            reason=reason,
        )
        tell_claim_decided(claim)
        if to_state == ClaimState.APPROVED:
            _settle_later()
    return claim


def claim_review_approve(*, claim: Claim, staff: AbstractBaseUser, reason: str) -> Claim:
    return _staff_decide(claim=claim, staff=staff, reason=reason, to_state=ClaimState.APPROVED)


def claim_review_reject(*, claim: Claim, staff: AbstractBaseUser, reason: str) -> Claim:
    return _staff_decide(claim=claim, staff=staff, reason=reason, to_state=ClaimState.REJECTED)


def _db_time(value: datetime):
    """A datetime as the ORM would store it (raw SQL gets no such conversion on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def _claim_batch(*, batch_size: int, now: datetime, insurer_ids: list[int] | None) -> int:
    """Compare-and-set a batch of approved claims to 'paid', marked by ``now`` (only the claims
    of ``insurer_ids`` when given).

    On PostgreSQL the batch is chosen with ``FOR UPDATE SKIP LOCKED``, so concurrent settlers take
    disjoint batches instead of queueing on the same rows; SQLite has a single writer anyway.
    """
    table, policy = Claim._meta.db_table, Policy._meta.db_table
    # The policy rows are locked first, in the order every path uses (policy → claim): a refund
    # voiding a policy and a settler paying its claim queue instead of deadlocking.
    lock = " FOR UPDATE OF p SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    only, only_params = "", []
    if insurer_ids is not None:
        if not insurer_ids:
            return 0
        marks = ", ".join(["%s"] * len(insurer_ids))
        only = f" AND p.insurer_id IN ({marks})"
        only_params = list(insurer_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            # The outer state check is the compare-and-set: the subquery reads claims without
            # locking them, so a claim another settler paid a moment ago can come back from it.
            f"UPDATE {table} SET state = %s, paid_at = %s WHERE state = %s AND id IN "
            f"(SELECT c.id FROM {table} c JOIN {policy} p ON p.id = c.policy_id "
            f"WHERE c.state = %s{only} ORDER BY c.id LIMIT %s{lock})",
            [
                ClaimState.PAID,
                _db_time(now),
                ClaimState.APPROVED,
                ClaimState.APPROVED,
                *only_params,
                batch_size,
            ],
        )
        return cursor.rowcount


ANALYZE_AFTER_NEW_ACCOUNTS = 1_000


def _ensure_buyer_accounts(batch: QuerySet[Claim]) -> None:
    account = Account._meta.db_table
    buyers = batch.values("buyer_id").distinct()
    sql, params = buyers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {account} (code, kind, user_id, name, allow_negative, balance_fen, created_at) "
            f"SELECT %s || b.buyer_id, %s, b.buyer_id, %s || b.buyer_id, %s, 0, %s FROM ({sql}) b "
            f"WHERE NOT EXISTS (SELECT 1 FROM {account} a WHERE a.user_id = b.buyer_id AND a.kind = %s) "
            # In buyer order, so two settlers inserting overlapping buyers cannot deadlock.
            "ORDER BY b.buyer_id ON CONFLICT DO NOTHING",
            [
                "buyer:",
                AccountKind.BUYER,
                "buyer:",
                False,
                _db_time(timezone.now()),
                *params,
                AccountKind.BUYER,
            ],
        )
        # Thousands of new accounts at once (a campaign's first payouts): the batch's next statements
        # join them, and a plan made for the table as it was scans it once per claim (4 s per
        # statement for 5,000 claims). ANALYZE sees this transaction's rows; it blocks no writer.
        if cursor.rowcount >= ANALYZE_AFTER_NEW_ACCOUNTS and connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {account}")


def claims_settle_batch(
    *, batch_size: int | None = None, now: datetime | None = None, insurer_ids: list[int] | None = None
) -> int:
    """Pay one batch of approved claims into buyers' balances, exactly once.

    One transaction: claim the batch (approved → paid, compare-and-set), post its payouts as
    ledger transfers, write the payout rows, mark the policies claimed, and audit — each a single
    set-based statement. The one-to-one payout per claim and the unique transfer key
    ``payout:claim:<id>`` make a second payout impossible even if two settlers raced.
    ``insurer_ids`` limits the batch to those insurers' claims (an officer settling their own).
    """
    batch_size = batch_size or settings.BAOJIA["BATCH_SIZE"]
    now = now or timezone.now()
    with transaction.atomic():
        count = _claim_batch(batch_size=batch_size, now=now, insurer_ids=insurer_ids)
        if not count:
            return 0
        batch = Claim.objects.filter(state=ClaimState.PAID, paid_at=now)
        _ensure_buyer_accounts(batch)
        for insurer in Insurer.objects.filter(policies__claims__in=batch).distinct():
            insurer_account(code=insurer.code, name=insurer.name)
        _post_payouts(count=count, now=now)
        _write_payout_rows(now=now)
        audit_record_query(
            queryset=batch,
            action=ClaimAction.SETTLE,
            from_state=ClaimState.APPROVED,
            to_state=ClaimState.PAID,
        )
        tell_payouts(batch)
        policies_mark_claimed(policies=Policy.objects.filter(pk__in=batch.values("policy_id")), now=now)
    return count


def _post_payouts(*, count: int, now: datetime) -> None:
    """One ledger transfer per claim of the batch, from the policy's insurer to the buyer."""
    claim, policy, insurer, account = (
        Claim._meta.db_table,
        Policy._meta.db_table,
        Insurer._meta.db_table,
        Account._meta.db_table,
    )
    rows_sql = (
        f"SELECT %s || c.id AS key, %s || c.number AS memo, %s || c.id AS reference, "
        f"ia.id AS debit, ba.id AS credit, c.compensation_fen AS amount FROM {claim} c "
        # The policy's own insurer pays: the one that underwrote it when it was issued.
        f"JOIN {policy} p ON p.id = c.policy_id "
        f"JOIN {insurer} i ON i.id = p.insurer_id JOIN {account} ia ON ia.code = %s || i.code "
        f"JOIN {account} ba ON ba.user_id = c.buyer_id AND ba.kind = %s "
        "WHERE c.state = %s AND c.paid_at = %s"
    )
    params = [
        "payout:claim:",
        stored_text(_("价格保障保险理赔 ")),
        "claim:",
        "insurer:",
        AccountKind.BUYER,
        ClaimState.PAID,
        _db_time(now),
    ]
    posted = transfers_post_query(kind=TransferKind.PAYOUT, rows_sql=rows_sql, params=params, created_at=now)
    if posted != count:
        raise RuntimeError(f"settlement posted {posted} transfers for {count} claims")


def _write_payout_rows(*, now: datetime) -> None:
    """The batch's payout rows, each pointing at the transfer that paid it."""
    claim, transfer = Claim._meta.db_table, Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Payout._meta.db_table} (claim_id, amount_fen, transfer_id, clawed_back_fen, created_at) "
            f"SELECT c.id, c.compensation_fen, t.id, 0, %s FROM {claim} c "
            f"JOIN {transfer} t ON t.key = %s || c.id WHERE c.state = %s AND c.paid_at = %s",
            [_db_time(now), "payout:claim:", ClaimState.PAID, _db_time(now)],
        )


def claims_settle(
    *, batch_size: int | None = None, max_batches: int | None = None, insurer_ids: list[int] | None = None
) -> int:
    paid = batches = 0
    while max_batches is None or batches < max_batches:
        done = claims_settle_batch(batch_size=batch_size, insurer_ids=insurer_ids)
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


def _claims_reject_for_refund(*, policy: Policy) -> None:
    """A line refunded in full ends every claim still in flight on it: the trade did not succeed."""
    for claim in Claim.objects.select_for_update().filter(
        policy=policy, state__in=[ClaimState.SUBMITTED, ClaimState.IN_REVIEW, ClaimState.APPROVED]
    ):
        from_state = claim.state
        claim.state = ClaimState.REJECTED
        claim.decided_at = timezone.now()
        claim.decision_reason = str(rules.BY_CODE["trade_not_successful"].failed)
        claim.checks = [*claim.checks, rules.failed_check("trade_not_successful")]
        claim.save(update_fields=["state", "decided_at", "decision_reason", "checks"])
        audit_record(
            subject=claim,
            action=ClaimAction.REJECT_REFUND,
            from_state=from_state,
            to_state=claim.state,
            reason="order refunded",
        )
        tell_claim_decided(claim)


def _claims_reduce_for_refund(*, policy: Policy, line: OrderLine) -> None:
    """A partial refund while a claim waits for staff or settlement lowers what it will pay, as
    if the refund had come before adjudication (no payout exists yet to claw back from)."""
    for claim in Claim.objects.select_for_update().filter(
        policy=policy, state__in=[ClaimState.IN_REVIEW, ClaimState.APPROVED]
    ):
        amount = rules.compensation(
            paid_fen=line.paid_fen,
            refunded_fen=line.refunded_fen,
            difference_fen=claim.price_difference_fen or 0,
            cap_fen=policy.per_claim_cap_fen,
        )
        if amount == claim.compensation_fen:
            continue
        from_state = claim.state
        claim.compensation_fen = amount or None
        if not amount:
            claim.state = ClaimState.REJECTED
            claim.decided_at = timezone.now()
        claim.save(update_fields=["compensation_fen", "state", "decided_at"])
        audit_record(
            subject=claim,
            action=ClaimAction.REDUCE_REFUND,
            from_state=from_state,
            to_state=claim.state,
            reason="order partly refunded",
            data={"compensation_fen": amount},
        )


def _payout_claw_back(*, policy: Policy, line: OrderLine) -> None:
    """A payout already made gives back what the refund no longer allows, once per refund."""
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .filter(claim__policy=policy)
        .select_related("claim")
        .first()
    )
    if payout is None:
        return
    allowed = rules.compensation(
        paid_fen=line.paid_fen,
        refunded_fen=line.refunded_fen,
        difference_fen=payout.claim.price_difference_fen or 0,
        cap_fen=policy.per_claim_cap_fen,
    )
    clawback = payout.amount_fen - payout.clawed_back_fen - allowed
    if clawback <= 0:
        return
    insurer = policy.insurer
    transfer_post(
        key=f"clawback:claim:{payout.claim_id}:{line.refunded_fen}",
        kind=TransferKind.CLAWBACK,
        legs=[
            Leg(user_account(user=line.order.buyer, kind=AccountKind.BUYER), -clawback),
            Leg(insurer_account(code=insurer.code, name=insurer.name), clawback),
        ],
        memo=stored_text(_("理赔款追回 %(claim)s"), claim=payout.claim.number),
        reference=f"claim:{payout.claim_id}",
    )
    payout.clawed_back_fen += clawback
    payout.save(update_fields=["clawed_back_fen"])
    audit_record(
        subject=payout.claim,
        action=ClaimAction.PAYOUT_CLAWBACK,
        reason="order refunded after payout",
        data={"amount_fen": clawback},
    )


def claims_after_refund(*, line: OrderLine) -> None:
    """Subscribed to order refunds: claims still in flight on a fully refunded line are rejected,
    those on a partly refunded one pay less; a payout already made is clawed back in proportion."""
    policy = Policy.objects.filter(order_line=line).select_related("insurer").first()
    if policy is None:
        return
    if line.refunded_fen >= line.paid_fen:
        _claims_reject_for_refund(policy=policy)
    else:
        _claims_reduce_for_refund(policy=policy, line=line)
    _payout_claw_back(policy=policy, line=line)
