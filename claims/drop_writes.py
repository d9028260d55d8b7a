"""The writes of price-drop detection: one chunk of policies brought up to one price record —
its drops inserted or lowered and its buyers' notices posted, all in one transaction, each a
single set-based statement that re-checks its condition in the database (so a repeat, or a run
alongside, writes nothing twice)."""

from datetime import datetime

from django.db import connection, models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat, JSONObject

from claims.models import ACTIVE_STATES, Claim, PriceDrop
from insurance.models import Policy
from notices.services import notice_post, notices_post_query
from shops.models import PriceRecord, PriceSource

_INT = models.BigIntegerField()


def compensation_expression(*, difference: str) -> models.Expression:
    """The SQL twin of :func:`claims.rules.compensation` for a policy row: the difference, at most
    the amount paid, reduced in proportion to any partial refund (rounded down to the fen), within
    the coverage's per-claim cap. ``difference`` names an annotation of the policy rows. A test
    holds the two to the same answers."""
    paid = F("order_line__paid_fen")
    refunded = F("order_line__refunded_fen")
    cap = F("coverage__per_claim_cap_fen")
    at_most_paid = Case(
        When(Q(**{f"{difference}__lt": paid}), then=F(difference)), default=paid, output_field=_INT
    )
    # Integer division in both SQLite and PostgreSQL: every operand is an integer.
    reduced = ExpressionWrapper(at_most_paid * (paid - refunded) / paid, output_field=_INT)
    return Case(
        When(Q(coverage__per_claim_cap_fen__isnull=False, coverage__per_claim_cap_fen__lt=reduced), then=cap),
        default=reduced,
        output_field=_INT,
    )


def _candidates(policies: QuerySet[Policy], price: int) -> tuple[str, list]:
    """SELECT pid, diff, amount for the policies, priced at ``price`` per unit."""
    difference = ExpressionWrapper(
        F("order_line__paid_fen") - Value(price, output_field=_INT) * F("order_line__quantity"),
        output_field=_INT,
    )
    rows = (
        policies.order_by()
        .annotate(diff=difference)
        .annotate(amount=compensation_expression(difference="diff"))
        .filter(diff__gt=0, order_line__paid_fen__gt=0)
        .values("diff", "amount", pid=F("pk"))
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _t(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def write(*, policies: QuerySet[Policy], record: PriceRecord, now: datetime, low: int, high: int) -> int:
    """Bring these policies (all with primary keys in [low, high)) down to ``record``: insert
    the new drops, lower the ones priced higher (the amount never falls), then post the notices.
    Returns drops written."""
    table = PriceDrop._meta.db_table
    sql, params = _candidates(policies, record.unit_price_fen)
    stamp = _t(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET record_id = %s, unit_price_fen = %s, difference_fen = s.diff, "  # noqa: S608
            f"amount_fen = CASE WHEN s.amount > {table}.amount_fen THEN s.amount ELSE {table}.amount_fen END, "
            f"raised_at = CASE WHEN s.amount > {table}.amount_fen THEN %s ELSE {table}.raised_at END, "
            f"improved_at = %s FROM ({sql}) s WHERE {table}.policy_id = s.pid AND {table}.unit_price_fen > %s",
            [record.pk, record.unit_price_fen, stamp, stamp, *params, record.unit_price_fen],
        )
        lowered = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (policy_id, record_id, unit_price_fen, difference_fen, amount_fen, "  # noqa: S608
            f"first_seen_at, improved_at, raised_at) SELECT s.pid, %s, %s, s.diff, s.amount, %s, %s, %s "
            f"FROM ({sql}) s WHERE s.amount > 0 AND NOT EXISTS "
            f"(SELECT 1 FROM {table} d WHERE d.policy_id = s.pid) ON CONFLICT DO NOTHING",
            [record.pk, record.unit_price_fen, stamp, stamp, stamp, *params],
        )
        inserted = cursor.rowcount
        if lowered or inserted:
            _tell_buyers(record=record, now=now, low=low, high=high)
    return lowered + inserted


def _drop_params() -> JSONObject:
    return JSONObject(
        amount_fen=F("amount_fen"),
        unit_price_fen=F("unit_price_fen"),
        platform=F("record__platform"),
        source=F("record__source"),
        shop=F("record__shop__name"),
        observed_at=F("record__observed_at"),
        window_ends_at=F("policy__window_ends_at"),
        order=F("policy__order_line__order__number"),
        title=F("policy__order_line__sku__listing__title"),
    )


def _tell_buyers(*, record: PriceRecord, now: datetime, low: int, high: int) -> None:
    """One notice per drop that appeared or rose in this chunk (this run's ``now`` marks them),
    unless a claim is already under way on the policy (the item is claimed once: a later price
    cannot help it)."""
    raised = (
        PriceDrop.objects.filter(raised_at=now, record=record, policy_id__gte=low, policy_id__lt=high)
        .exclude(Exists(Claim.objects.filter(policy=OuterRef("policy"), state__in=ACTIVE_STATES)))
        .order_by()
    )
    link = Concat(Value("/orders/"), F("policy__order_line__order__number"), Value("/"))
    notices_post_query(
        queryset=raised.filter(first_seen_at=now),
        kind="drop_detected",
        user=F("policy__buyer_id"),
        key=Concat(Value("drop:"), F("policy_id"), output_field=models.CharField()),
        params=_drop_params(),
        link=link,
    )
    notices_post_query(
        queryset=raised.filter(first_seen_at__lt=now),
        kind="drop_raised",
        user=F("policy__buyer_id"),
        key=Concat(
            Value("drop:"), F("policy_id"), Value(":"), F("amount_fen"), output_field=models.CharField()
        ),
        params=_drop_params(),
        link=link,
    )


def tell_seller(*, record: PriceRecord, key: str, now: datetime) -> int:
    """A public price (a price change, a campaign price, a coupon) that made drops appear or rise
    on a seller's policies: one notice per seller, with how many policies and how much."""
    if record.source == PriceSource.ORDER_LINE:
        return 0
    rows = (
        PriceDrop.objects.filter(record=record, raised_at=now)
        .values("policy__seller__user_id")
        .annotate(n=Count("pk"), total=Sum("amount_fen"))
        .order_by()
    )
    posted = 0
    for row in rows:
        notice = notice_post(
            user_id=row["policy__seller__user_id"],
            kind="seller_drops",
            key=f"seller_drops:{key}",
            params={
                "policies": row["n"],
                "amount_fen": row["total"],
                "unit_price_fen": record.unit_price_fen,
                "shop": record.shop.name,
                "platform": record.platform,
                "source": record.source,
            },
            link="/seller/",
        )
        posted += notice is not None
    return posted
