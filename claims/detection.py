"""Price-drop detection (主动保价): the platform finds the lower price so the buyer need not.

For every claimable policy whose window is open, the lowest price record of the same catalog
product and spec values inside the window (the insured order itself and prices of campaigns
excluded from claims left out) becomes the policy's :class:`PriceDrop`, with what a claim on it
would pay.

Policies of one campaign item share product, spec and window, so the minimum is kept per
:class:`PriceWatch` (a handful per campaign), read from the new price records only; the policies
of a watch are touched — set-based, in primary-key chunks — only when its best price changed.
Every write only ever lowers a price or raises an amount (compare-and-set in the statement
itself), so a run repeated, late, or alongside another changes nothing twice.
"""

import dataclasses
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from claims import drop_writes
from claims.models import DetectionCursor, PriceWatch
from insurance.models import Coverage, Policy, PolicyState
from shops.models import PriceRecord

CURSOR = "price_drops"
# More new records than this since the last run: read every watch afresh instead.
INCREMENTAL_LIMIT = 200_000

Progress = Callable[[int], None]


def open_policies(now: datetime) -> QuerySet[Policy]:
    """Policies a detected drop is kept for: claimable, window open, campaign not excluded."""
    return Policy.objects.filter(
        state=PolicyState.CLAIMABLE,
        window_starts_at__lte=now,
        window_ends_at__gt=now,
        coverage__campaign_item__campaign__excluded_from_claims=False,
    )


def _coverages(*, product_id: int, specs_key: str) -> list[int]:
    """Coverages of campaigns not excluded from claims on a SKU of this product + spec: a
    policy's insured line is its campaign item's SKU, so these name a watch's policies without
    joining a million lines to their SKUs."""
    return list(
        Coverage.objects.filter(
            campaign_item__sku__listing__product_id=product_id,
            campaign_item__sku__specs_key=specs_key,
            campaign_item__campaign__excluded_from_claims=False,
        ).values_list("pk", flat=True)
    )


def lowest_record(
    *,
    product_id: int,
    specs_key: str,
    starts_at: datetime,
    ends_at: datetime,
    up_to: int | None = None,
    exclude_order: int | None = None,
) -> PriceRecord | None:
    """The lowest price record of a product + spec in [starts_at, ends_at); the earliest of equal
    prices. Prices of excluded campaigns never count."""
    records = PriceRecord.objects.filter(
        product_id=product_id,
        specs_key=specs_key,
        excluded=False,
        observed_at__gte=starts_at,
        observed_at__lt=ends_at,
    )
    if up_to is not None:
        records = records.filter(pk__lte=up_to)
    if exclude_order is not None:
        records = records.exclude(order_ref=exclude_order)
    return records.order_by("unit_price_fen", "observed_at", "pk").first()


def _lower(watch_id: int, record: PriceRecord, now: datetime) -> bool:
    """Compare-and-set a watch's best to a lower price; equal prices keep the earlier proof."""
    return bool(
        PriceWatch.objects.filter(pk=watch_id)
        .filter(Q(best_price_fen__isnull=True) | Q(best_price_fen__gt=record.unit_price_fen))
        .update(best_record=record, best_price_fen=record.unit_price_fen, improved_at=now, pending=True)
    )


def _register_watches(policies: QuerySet[Policy]) -> set[tuple]:
    """A watch for every product + spec + window of these policies (new ones start unread);
    returns those keys."""
    windows = set(
        policies.order_by().values_list("coverage_id", "window_starts_at", "window_ends_at").distinct()
    )
    insured = {
        pk: (product, spec)
        for pk, product, spec in Coverage.objects.filter(pk__in={c for c, _ws, _we in windows}).values_list(
            "pk", "campaign_item__sku__listing__product_id", "campaign_item__sku__specs_key"
        )
    }
    keys = {(*insured[coverage], ws, we) for coverage, ws, we in windows}
    rows = [
        PriceWatch(product_id=p, specs_key=s, window_starts_at=ws, window_ends_at=we) for p, s, ws, we in keys
    ]
    PriceWatch.objects.bulk_create(rows, ignore_conflicts=True)
    return keys


def _read_watch_afresh(watch: PriceWatch, *, high: int, now: datetime, full: bool) -> None:
    best = lowest_record(
        product_id=watch.product_id,
        specs_key=watch.specs_key,
        starts_at=watch.window_starts_at,
        ends_at=watch.window_ends_at,
        up_to=high,
    )
    with transaction.atomic():
        if best is not None:
            _lower(watch.pk, best, now)
        changes = {"seen_up_to": high}
        if full:  # a full rescan brings every policy up to date, whatever it missed
            changes["pending"] = True
        PriceWatch.objects.filter(pk=watch.pk, seen_up_to__lte=high).update(**changes)


def _read_new_records(*, low: int, high: int, now: datetime) -> int:
    """Lower the watches that a record in (low, high] beats: one join of the new records (read
    by primary key) with the watches, in id chunks, never a scan of the old records."""
    record, watch = PriceRecord._meta.db_table, PriceWatch._meta.db_table
    step = settings.BAOJIA["DETECTION_BATCH_SIZE"]
    lowered = 0
    for start in range(low, high, step):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT w.id, r.id FROM {record} r JOIN {watch} w ON w.product_id = r.product_id "  # noqa: S608
                "AND w.specs_key = r.specs_key AND r.observed_at >= w.window_starts_at "
                "AND r.observed_at < w.window_ends_at "
                "WHERE r.id > %s AND r.id <= %s AND r.excluded = %s AND w.seen_up_to > 0 "
                "AND w.window_ends_at > %s "
                "AND (w.best_price_fen IS NULL OR r.unit_price_fen < w.best_price_fen) "
                "ORDER BY w.id, r.unit_price_fen, r.observed_at, r.id",
                [start, min(start + step, high), False, connection.ops.adapt_datetimefield_value(now)],
            )
            best: dict[int, int] = {}
            for watch_id, record_id in cursor.fetchall():
                best.setdefault(watch_id, record_id)
        records = PriceRecord.objects.in_bulk(list(best.values()))
        for watch_id, record_id in best.items():
            lowered += _lower(watch_id, records[record_id], now)
    PriceWatch.objects.filter(seen_up_to__gt=0, seen_up_to__lt=high).update(seen_up_to=high)
    return lowered


def claimable_span() -> int:
    """The width of the claimable policies' primary-key range: what a full rescan walks."""
    bounds = Policy.objects.filter(state=PolicyState.CLAIMABLE).aggregate(low=Min("pk"), high=Max("pk"))
    return 0 if bounds["low"] is None else bounds["high"] - bounds["low"] + 1


def _targets(watches: list[PriceWatch], *, since: datetime | None) -> list[drop_writes.Target]:
    """What each watch's policies are brought down to: its best record, except for the one policy
    of the order that record came from (an order has one line per product + spec), which is
    compared with the lowest record of any other order instead."""
    targets = []
    for watch in watches:
        best = watch.best_record
        if best is None:
            continue
        target = drop_writes.Target(
            coverages=_coverages(product_id=watch.product_id, specs_key=watch.specs_key),
            starts_at=watch.window_starts_at,
            ends_at=watch.window_ends_at,
            record=best,
            since=since,
        )
        targets.append(target)
        if best.order_ref is None:
            continue
        own = (
            Policy.objects.filter(
                state=PolicyState.CLAIMABLE,
                coverage_id__in=target.coverages,
                window_starts_at=target.starts_at,
                window_ends_at=target.ends_at,
                order_line__order_id=best.order_ref,
            )
            .values_list("pk", flat=True)
            .first()
        )
        other = lowest_record(
            product_id=watch.product_id,
            specs_key=watch.specs_key,
            starts_at=watch.window_starts_at,
            ends_at=watch.window_ends_at,
            up_to=watch.seen_up_to,
            exclude_order=best.order_ref,
        )
        if own is not None and other is not None:
            targets.append(dataclasses.replace(target, record=other, only_policy=own))
    return targets


def _apply(
    watches: list[PriceWatch], *, now: datetime, since: datetime | None, progress: Progress | None
) -> int:
    """Bring the policies of these watches (only those claimable since ``since`` when given) up
    to their best prices: one pass over the claimable policies in primary-key chunks, all watches
    at once, each chunk one transaction with its buyers' notices; then the sellers' notices."""
    targets = _targets(watches, since=since)
    if not targets:
        return 0
    claimable = Policy.objects.filter(state=PolicyState.CLAIMABLE)
    bounds = claimable.aggregate(low=Min("pk"), high=Max("pk"))  # the partial index's two ends
    if bounds["low"] is None:
        return 0
    step = settings.BAOJIA["DETECTION_BATCH_SIZE"]
    written = 0
    tally: dict = {}
    for low in range(bounds["low"], bounds["high"] + 1, step):
        done = drop_writes.write(targets=targets, now=now, low=low, high=low + step)
        if done:
            drop_writes.count_for_sellers(targets=targets, now=now, low=low, high=low + step, tally=tally)
        written += done
        if progress:
            progress(min(step, bounds["high"] + 1 - low))
    with transaction.atomic():
        # These watches' policies are up to date: say so, and tell the sellers what it cost.
        for watch in watches:
            PriceWatch.objects.filter(pk=watch.pk, best_record=watch.best_record_id).update(pending=False)
        drop_writes.tell_sellers(targets=targets, tally=tally)
    return written


def _key(watch: PriceWatch) -> tuple:
    return (watch.product_id, watch.specs_key, watch.window_starts_at, watch.window_ends_at)


def _cursor() -> DetectionCursor:
    cursor, _created = DetectionCursor.objects.get_or_create(name=CURSOR)
    return cursor


def price_drops_detect(
    *, full: bool = False, now: datetime | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """Detect price drops: incrementally from the last run's marks, or (``full``) every open
    policy against every record. Safe to run twice, late, or while another run is going."""
    now = now or timezone.now()
    cursor = _cursor()
    high = PriceRecord.objects.aggregate(high=Max("pk"))["high"] or 0
    full = full or cursor.last_run_at is None or high - cursor.rescan_from > INCREMENTAL_LIMIT
    since = None if full else cursor.policies_rescan_from
    fresh = open_policies(now)
    if since is not None:
        fresh = fresh.filter(claimable_at__gte=since)
    fresh_keys = _register_watches(fresh)
    watches = PriceWatch.objects.filter(window_starts_at__lte=now, window_ends_at__gt=now)
    for watch in watches if full else watches.filter(seen_up_to=0):
        _read_watch_afresh(watch, high=high, now=now, full=full)
    lowered = 0 if full else _read_new_records(low=cursor.rescan_from, high=high, now=now)
    current = list(watches.select_related("best_record__shop", "best_record__product").order_by("pk"))
    pending = [w for w in current if w.pending]
    written = _apply(pending, now=now, since=None, progress=progress)
    if since is not None:
        # Policies that became claimable since the last run meet the watches that did not change.
        joined = [w for w in current if not w.pending and _key(w) in fresh_keys]
        written += _apply(joined, now=now, since=since, progress=progress)
    PriceWatch.objects.filter(window_ends_at__lte=now).delete()
    _advance(cursor, high=high, now=now, full=full)
    return {"records_up_to": high, "watches_lowered": lowered, "drops_written": written, "full": int(full)}


def _advance(cursor: DetectionCursor, *, high: int, now: datetime, full: bool) -> None:
    """Move the marks forward, never back, whatever another run did meanwhile. The next run
    reads again from this run's starting mark (see :class:`DetectionCursor`); on the very first
    run there is nothing before it to read again."""
    with transaction.atomic():
        cursor = DetectionCursor.objects.select_for_update().get(pk=cursor.pk)
        if cursor.seen_up_to < high:
            cursor.rescan_from, cursor.seen_up_to = cursor.seen_up_to or high, high
        if cursor.policies_seen_at is None or cursor.policies_seen_at < now:
            cursor.policies_rescan_from, cursor.policies_seen_at = cursor.policies_seen_at or now, now
        cursor.last_run_at = now
        if full:
            cursor.last_full_at = now
        cursor.save()
