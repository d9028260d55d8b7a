"""The writes of price-drop detection: one primary-key chunk of claimable policies brought down
to their watches' best prices — drops inserted or lowered, buyers' notices posted — in one
transaction, each a single set-based statement that re-checks its condition in the database (so
a repeat, or a run alongside, writes nothing twice)."""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db import connection, models, transaction
from django.db.models import Case, Count, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Concat, JSONObject
from django.db.models.lookups import IsNull, LessThan

from claims.models import ACTIVE_STATES, Claim, PriceDrop
from insurance.models import Policy, PolicyState
from notices.services import notice_post, notices_post_query
from shops.models import PriceRecord, PriceSource, Seller

_INT = models.BigIntegerField()
# A policy row's insured line and per-claim cap, as compensation reads them.
_PAID, _REFUNDED, _CAP = (
    F("order_line__paid_fen"),
    F("order_line__refunded_fen"),
    F("per_claim_cap_fen"),  # the policy's own cap, copied from its product at issue
)


def compensation_expression(
    *,
    difference: models.Expression,
    paid: models.Expression = _PAID,
    refunded: models.Expression = _REFUNDED,
    cap: models.Expression = _CAP,
) -> models.Expression:
    """The SQL twin of :func:`claims.rules.compensation` (by default for a policy row): the
    difference, at most the amount paid, reduced in proportion to any partial refund (rounded
    down to the fen), within the per-claim cap. A test holds the two to the same answers."""
    at_most_paid = Case(When(LessThan(difference, paid), then=difference), default=paid, output_field=_INT)
    # Integer division in both SQLite and PostgreSQL: every operand is an integer.
    reduced = ExpressionWrapper(at_most_paid * (paid - refunded) / paid, output_field=_INT)
    return Case(
        When(IsNull(cap, False) & LessThan(cap, reduced), then=cap),
        default=reduced,
        output_field=_INT,
    )


@dataclass(frozen=True)
class Target:
    """The policies of one watch (by their coverages and window) and the record they are brought
    down to; ``only_policy`` narrows it to one policy."""

    coverages: list[int]
    starts_at: datetime
    ends_at: datetime
    record: PriceRecord
    since: datetime | None = None
    only_policy: int | None = None

    def where(self) -> Q:
        where = Q(
            coverage_id__in=self.coverages, window_starts_at=self.starts_at, window_ends_at=self.ends_at
        )
        if self.since is not None:
            where &= Q(claimable_at__gte=self.since)
        if self.only_policy is not None:
            return where & Q(pk=self.only_policy)
        if self.record.order_ref is not None:  # never proven by its own order's line
            where &= ~Q(order_line__order_id=self.record.order_ref)
        return where


def _candidates(targets: list[Target], *, now: datetime, low: int, high: int) -> tuple[str, list]:
    """SELECT pid, rid, price, diff, amount: each claimable policy of the chunk that a target's
    price would give a drop, with that price (the most specific target first)."""
    ordered = sorted(targets, key=lambda t: t.only_policy is None)
    pick = [When(t.where(), then=Value(t.record.unit_price_fen)) for t in ordered]
    proof = [When(t.where(), then=Value(t.record.pk)) for t in ordered]
    difference = ExpressionWrapper(
        F("order_line__paid_fen") - F("price") * F("order_line__quantity"), output_field=_INT
    )
    rows = (
        Policy.objects.filter(
            reduce(or_, [t.where() for t in targets]),
            state=PolicyState.CLAIMABLE,
            pk__gte=low,
            pk__lt=high,
            window_starts_at__lte=now,
            window_ends_at__gt=now,
            order_line__paid_fen__gt=0,
        )
        .order_by()
        .annotate(price=Case(*pick, output_field=_INT), rid=Case(*proof, output_field=_INT))
        .annotate(diff=difference)
        .annotate(amount=compensation_expression(difference=F("diff")))
        .filter(diff__gt=0)
        .values("rid", "price", "diff", "amount", pid=F("pk"))
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _t(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def write(*, targets: list[Target], now: datetime, low: int, high: int) -> int:
    """Bring the chunk's policies (primary keys in [low, high)) down to their targets: lower the
    drops priced higher (the amount never falls), insert the new ones, then post the notices.
    Returns drops written."""
    table = PriceDrop._meta.db_table
    sql, params = _candidates(targets, now=now, low=low, high=high)
    stamp = _t(now)
    lowest = min(t.record.unit_price_fen for t in targets)
    with transaction.atomic(), connection.cursor() as cursor:
        # Most chunks of a first scan have no drop yet: nothing to lower, and no need to pay for
        # the candidates a second time to find that out.
        in_chunk = PriceDrop.objects.filter(policy_id__gte=low, policy_id__lt=high)
        priced_higher = in_chunk.filter(unit_price_fen__gt=lowest).exists()
        lowered = _lower(cursor, sql, [stamp, stamp, *params]) if priced_higher else 0
        cursor.execute(
            f"INSERT INTO {table} (policy_id, record_id, unit_price_fen, difference_fen, amount_fen, "  # noqa: S608
            f"first_seen_at, improved_at, raised_at) SELECT s.pid, s.rid, s.price, s.diff, s.amount, %s, %s, %s "
            # A policy with a drop already conflicts on its unique policy and is left to the UPDATE.
            f"FROM ({sql}) s WHERE s.amount > 0 ON CONFLICT DO NOTHING",
            [stamp, stamp, stamp, *params],
        )
        inserted = cursor.rowcount
        if lowered or inserted:
            records = list({t.record.pk: t.record for t in targets}.values())
            _tell_buyers(records=records, now=now, low=low, high=high)
    return lowered + inserted


def _lower(cursor, candidates: str, params: list) -> int:
    """Lower the drops a candidate prices lower; the amount only ever rises (``raised_at`` says
    when it last did)."""
    table = PriceDrop._meta.db_table
    cursor.execute(
        f"UPDATE {table} SET record_id = s.rid, unit_price_fen = s.price, difference_fen = s.diff, "  # noqa: S608
        f"amount_fen = CASE WHEN s.amount > {table}.amount_fen THEN s.amount ELSE {table}.amount_fen END, "
        f"raised_at = CASE WHEN s.amount > {table}.amount_fen THEN %s ELSE {table}.raised_at END, "
        f"improved_at = %s FROM ({candidates}) s "
        f"WHERE {table}.policy_id = s.pid AND {table}.unit_price_fen > s.price",
        params,
    )
    return cursor.rowcount


def _per_record(records: list[PriceRecord], value) -> Case:
    """A value of each row's proving record, written into the statement (a handful of records
    per run) instead of joined for each of a million rows."""
    return Case(
        *[When(price_drop__record_id=r.pk, then=Value(value(r))) for r in records],
        output_field=models.CharField(),
    )


def _drop_params(records: list[PriceRecord]) -> JSONObject:
    return JSONObject(
        amount_fen=F("price_drop__amount_fen"),
        unit_price_fen=F("price_drop__unit_price_fen"),
        platform=_per_record(records, lambda r: r.platform),
        source=_per_record(records, lambda r: r.source),
        shop=_per_record(records, lambda r: r.shop.name),
        product=_per_record(records, lambda r: r.product.name),
        observed_at=_per_record(records, lambda r: r.observed_at.isoformat()),
        window_ends_at=F("window_ends_at"),
    )


def _tell_buyers(*, records: list[PriceRecord], now: datetime, low: int, high: int) -> None:
    """One notice per drop of the chunk that appeared or rose in this run (its ``now`` marks
    them), unless a claim is under way on the policy (the item is claimed once: a later price
    cannot help it). Each links to the drop, which shows on its order's page. Read from the
    policies' side, so that the database walks the chunk's primary-key range of both tables."""
    raised = Policy.objects.filter(
        pk__gte=low,
        pk__lt=high,
        # The same range again on the drops' side: the planner does not carry it across the join.
        price_drop__policy_id__gte=low,
        price_drop__policy_id__lt=high,
        price_drop__raised_at=now,
    ).order_by()
    in_flight = Claim.objects.filter(policy_id__gte=low, policy_id__lt=high, state__in=ACTIVE_STATES)
    if in_flight.exists():
        raised = raised.exclude(Exists(in_flight.filter(policy=OuterRef("pk"))))
    link = Concat(Value("/drops/"), F("price_drop__pk"), Value("/"), output_field=models.CharField())
    notices_post_query(
        queryset=raised.filter(price_drop__first_seen_at=now),
        kind="drop_detected",
        user=F("buyer_id"),
        key=Concat(Value("drop:"), F("pk"), output_field=models.CharField()),
        params=_drop_params(records),
        link=link,
    )
    notices_post_query(
        queryset=raised.filter(price_drop__first_seen_at__lt=now),
        kind="drop_raised",
        user=F("buyer_id"),
        key=Concat(
            Value("drop:"), F("pk"), Value(":"), F("price_drop__amount_fen"), output_field=models.CharField()
        ),
        params=_drop_params(records),
        link=link,
    )


def _public(targets: list[Target]) -> dict[int, PriceRecord]:
    return {t.record.pk: t.record for t in targets if t.record.source != PriceSource.ORDER_LINE}


def count_for_sellers(*, targets: list[Target], now: datetime, low: int, high: int, tally: dict) -> None:
    """Add up, per public price record and seller, the drops of the chunk that this run made
    appear or rise (read by the chunk's primary-key range on both sides of the join)."""
    public = _public(targets)
    if not public:
        return
    rows = (
        Policy.objects.filter(
            pk__gte=low,
            pk__lt=high,
            price_drop__policy_id__gte=low,
            price_drop__policy_id__lt=high,
            price_drop__raised_at=now,
            price_drop__record_id__in=list(public),
        )
        .values("price_drop__record_id", "seller_id")
        .annotate(n=Count("pk"), total=Sum("price_drop__amount_fen"))
        .order_by()
    )
    for row in rows:
        found = tally.setdefault((row["price_drop__record_id"], row["seller_id"]), [0, 0])
        found[0] += row["n"]
        found[1] += row["total"]


def tell_sellers(*, targets: list[Target], tally: dict) -> int:
    """What public prices (a price change, a campaign price, a coupon) made appear or rise on each
    seller's policies in this run: one notice per price record and seller, with how many
    policies and how much."""
    public = _public(targets)
    users = dict(Seller.objects.filter(pk__in={seller for _r, seller in tally}).values_list("pk", "user_id"))
    posted = 0
    for (record_id, seller_id), (policies, total) in tally.items():
        record = public[record_id]
        notice = notice_post(
            user_id=users[seller_id],
            kind="seller_drops",
            key=f"seller_drops:{record.pk}",
            params={
                "policies": policies,
                "amount_fen": total,
                "unit_price_fen": record.unit_price_fen,
                "shop": record.shop.name,
                "platform": record.platform,
                "source": record.source,
            },
            link="/seller/",
        )
        posted += notice is not None
    return posted
