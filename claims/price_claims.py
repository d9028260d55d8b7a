"""Claims whose evidence is the platform's own price record: 一键理赔 (one click from a detected
drop) and 自动理赔 (filed for the buyer shortly before the window closes), and the notices that
follow a drop (the window closing with the drop still unclaimed)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Concat, JSONObject
from django.utils import timezone

from claims.errors import ClaimRefused, refusal
from claims.models import ACTIVE_STATES, Claim, ClaimAction, ClaimSource, ClaimState, PriceDrop
from claims.notifications import tell_claim_filed
from claims.services import _adjudicate_later
from core.models import Preferences
from core.numbers import new_number
from core.services import audit_record
from insurance.models import Policy, PolicyState
from notices.services import notice_post, notices_post_query


def claim_file_from_drop(
    *, drop: PriceDrop, buyer: AbstractBaseUser, source: str = ClaimSource.ONE_CLICK
) -> Claim:
    """一键理赔: file a claim on a detected drop, its price record as the evidence.

    The record is the drop's as it is now (the lowest price seen in the window). Filing again
    while that claim is in flight returns it; a policy with any other claim in flight or paid is
    ``already_claimed``. The automatic path files only for a policy with no claim at all: a buyer
    who claimed by hand, even unsuccessfully, is left alone.
    """
    if source not in (ClaimSource.ONE_CLICK, ClaimSource.AUTOMATIC):
        raise ValueError(f"not a price-record claim: {source}")
    if drop.policy.buyer_id != buyer.pk:
        raise refusal("not_found")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=drop.policy_id)
        drop = PriceDrop.objects.select_related("record").get(pk=drop.pk)
        claims = Claim.objects.filter(policy=policy)
        active = claims.filter(state__in=ACTIVE_STATES).first()
        if active is not None:
            if active.price_record_id is not None and active.state != ClaimState.PAID:
                return active
            raise refusal("already_claimed")
        if source == ClaimSource.AUTOMATIC and claims.exists():
            raise refusal("already_claimed")
        try:
            with transaction.atomic():
                claim = Claim.objects.create(
                    number=new_number("LP"),
                    policy=policy,
                    buyer=buyer,
                    source=source,
                    price_record=drop.record,
                    filed_at=timezone.now(),
                )
        except IntegrityError:
            raise refusal("already_claimed") from None
        audit_record(
            subject=claim,
            action=ClaimAction.FILE,
            actor=buyer if source == ClaimSource.ONE_CLICK else None,
            to_state=claim.state,
            data={"source": source, "price_record": drop.record_id, "unit_price_fen": drop.unit_price_fen},
        )
        _adjudicate_later(claim)
        tell_claim_filed(claim)
        if source == ClaimSource.AUTOMATIC:
            _tell_filed_for_you(claim, drop)
    return claim


def _tell_filed_for_you(claim: Claim, drop: PriceDrop) -> None:
    notice_post(
        user_id=claim.buyer_id,
        kind="claim_filed_auto",
        key=f"claim_filed_auto:{claim.policy_id}",
        params={
            "claim": claim.number,
            "order": claim.policy.order_line.order.number,
            "unit_price_fen": drop.unit_price_fen,
            "amount_fen": drop.amount_fen,
        },
        link=f"/orders/{claim.policy.order_line.order.number}/",
    )


def _unclaimed(drops: QuerySet[PriceDrop], *, states: list[str] | None = None) -> QuerySet[PriceDrop]:
    claims = Claim.objects.filter(policy=OuterRef("policy"))
    if states is not None:
        claims = claims.filter(state__in=states)
    return drops.exclude(Exists(claims))


def _closing(now: datetime, within: timedelta) -> QuerySet[PriceDrop]:
    return PriceDrop.objects.filter(
        policy__state=PolicyState.CLAIMABLE,
        policy__window_ends_at__gt=now,
        policy__window_ends_at__lte=now + within,
    )


def drops_due_for_auto_claim(*, now: datetime) -> QuerySet[PriceDrop]:
    """Drops whose window closes within the margin, on policies with no claim at all, of buyers
    who left 自动理赔 on."""
    margin = timedelta(minutes=settings.BAOJIA["AUTO_CLAIM_MARGIN_MINUTES"])
    opted_out = Preferences.objects.filter(user=OuterRef("policy__buyer"), auto_claim=False)
    return (
        _unclaimed(_closing(now, margin)).exclude(Exists(opted_out)).order_by("policy__window_ends_at", "pk")
    )


def claims_file_automatic(*, now: datetime | None = None, limit: int = 500) -> int:
    """自动理赔: file for every due drop, ``limit`` per run (beat runs it every few minutes, well
    inside the margin). Safe to repeat: a policy with any claim is not due any more."""
    now = now or timezone.now()
    filed = 0
    for drop in drops_due_for_auto_claim(now=now).select_related("policy__buyer")[:limit]:
        try:
            claim_file_from_drop(drop=drop, buyer=drop.policy.buyer, source=ClaimSource.AUTOMATIC)
        except ClaimRefused:
            continue  # the buyer filed a moment ago
        filed += 1
    return filed


def notices_window_closing(*, now: datetime | None = None) -> int:
    """The buyer of a drop still unclaimed hears, once, that its window closes within the hours
    set (48 by default)."""
    now = now or timezone.now()
    within = timedelta(hours=settings.BAOJIA["WINDOW_CLOSING_NOTICE_HOURS"])
    due = _unclaimed(_closing(now, within), states=ACTIVE_STATES)
    return notices_post_query(
        queryset=due,
        kind="window_closing",
        user=F("policy__buyer_id"),
        key=Concat(Value("closing:"), F("policy_id"), output_field=models.CharField()),
        params=JSONObject(
            amount_fen=F("amount_fen"),
            unit_price_fen=F("unit_price_fen"),
            window_ends_at=F("policy__window_ends_at"),
            order=F("policy__order_line__order__number"),
            title=F("policy__order_line__sku__listing__title"),
        ),
        link=Concat(Value("/drops/"), F("pk"), Value("/"), output_field=models.CharField()),
    )
