"""The rollup that keeps the tallies current: Celery beat runs it every 30 seconds.

What changed is read from the audit log, which every state change writes in its own transaction:
events on policies and claims name the policy blocks to rebuild, events on orders the order
blocks and the buyers, a coverage switched on the blocks of every order of its item. Each dirty
block is rebuilt from the raw rows (``compute``), so a run is idempotent: running it twice, late,
or concurrently (the bookmark row is locked) gives the same tallies.

The bookmark ``safe_until`` only moves past changes that can no longer appear: an audit row is
stamped inside its transaction, so nothing still uncommitted is older than the oldest open
transaction (PostgreSQL's ``pg_stat_activity``) less a margin for clock skew between the
application and the database. Events after the bookmark are read again on the next run; the
lag of a page is therefore one beat interval plus the run itself.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from claims.models import Claim
from claims.summaries import compute
from claims.summaries.models import (
    BLOCK,
    BuyerBlockTally,
    BuyerTally,
    CoverageDayTally,
    CoverageTally,
    EffectTally,
    ItemSalesTally,
    LossDayTally,
    OpenPolicyTally,
    SummaryState,
)
from core.models import AuditEvent
from insurance.models import Coverage, Policy
from orders.models import Order, OrderLine, OrderState

logger = logging.getLogger(__name__)

STATE = "tallies"
BUYERS_PER_QUERY = 1_000
POLICY_TALLIES = (CoverageTally, CoverageDayTally, OpenPolicyTally, LossDayTally)
ORDER_TALLIES = (ItemSalesTally, EffectTally)
ALL_TALLIES = (*POLICY_TALLIES, *ORDER_TALLIES, BuyerTally, BuyerBlockTally)


@dataclass
class Dirty:
    policy_blocks: set[int] = field(default_factory=set)
    order_blocks: set[int] = field(default_factory=set)
    buyers: dict[int, set[int]] = field(default_factory=dict)  # seller → buyer ids

    def add_buyers(self, found: dict[int, set[int]]) -> None:
        for seller, buyers in found.items():
            self.buyers.setdefault(seller, set()).update(buyers)

    def __bool__(self) -> bool:
        return bool(self.policy_blocks or self.order_blocks or self.buyers)


def safety_margin() -> timedelta:
    return timedelta(seconds=settings.BAOJIA["SUMMARY_SAFETY_SECONDS"])


def safe_horizon(now: datetime) -> datetime:
    """Changes audited before this instant are committed (or will never be)."""
    oldest = now
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            (started,) = cursor.fetchone()
        if started is not None:
            oldest = min(oldest, started)
    return oldest - safety_margin()


def _blocks(rows: QuerySet, expression: str) -> set[int]:
    return set(
        rows.order_by()
        .annotate(block=compute.block_of(expression))
        .values_list("block", flat=True)
        .distinct()
    )


def dirty_since(since: datetime) -> Dirty:
    """The blocks and buyers whose raw rows changed at or after ``since``."""
    types = ContentType.objects.get_for_models(Policy, Claim, Order, Coverage)
    events = AuditEvent.objects.filter(created_at__gte=since).order_by()

    def ids(model: type) -> QuerySet:
        return events.filter(content_type=types[model]).values("object_id")

    dirty = Dirty(
        policy_blocks=_blocks(events.filter(content_type=types[Policy]), "object_id")
        | _blocks(Claim.objects.filter(pk__in=ids(Claim)), "policy_id"),
        order_blocks=_blocks(events.filter(content_type=types[Order]), "object_id"),
    )
    dirty.add_buyers(compute.buyers_of_orders(ids(Order)))
    # Switching coverage on makes every order of the item count as covered.
    switched_on = events.filter(content_type=types[Coverage], to_state="on").exclude(from_state="on")
    if switched_on.exists():
        items = Coverage.objects.filter(pk__in=switched_on.values("object_id")).values("campaign_item_id")
        lines = OrderLine.objects.filter(campaign_item_id__in=items)
        dirty.order_blocks |= _blocks(lines, "order_id")
        dirty.add_buyers(
            compute.buyers_of_orders(lines.filter(order__state=OrderState.SUCCEEDED).values("order_id"))
        )
    return dirty


def dirty_all() -> Dirty:
    """Every block and buyer there is: the first run, and ``--full``."""

    def span(model: type) -> set[int]:
        bounds = model.objects.aggregate(low=Min("pk"), high=Max("pk"))
        if bounds["low"] is None:
            return set()
        return set(range(bounds["low"] // BLOCK, bounds["high"] // BLOCK + 1))

    dirty = Dirty(policy_blocks=span(Policy), order_blocks=span(Order))
    dirty.add_buyers(compute.buyers_of_orders(Order.objects.filter(state=OrderState.SUCCEEDED).values("pk")))
    return dirty


def _rewrite_policy_blocks(blocks: set[int]) -> None:
    for chunk in compute.chunks(blocks):
        for model in POLICY_TALLIES:
            model.objects.filter(block__in=chunk).delete()
        CoverageTally.objects.bulk_create(compute.coverage_tallies(chunk), batch_size=2_000)
        CoverageDayTally.objects.bulk_create(compute.day_tallies(chunk), batch_size=2_000)
        OpenPolicyTally.objects.bulk_create(compute.open_tallies(chunk), batch_size=2_000)
        LossDayTally.objects.bulk_create(compute.loss_tallies(chunk), batch_size=2_000)


def _rewrite_order_blocks(blocks: set[int]) -> None:
    for chunk in compute.chunks(blocks):
        for model in ORDER_TALLIES:
            model.objects.filter(block__in=chunk).delete()
        ItemSalesTally.objects.bulk_create(compute.item_sales_tallies(chunk), batch_size=2_000)
        EffectTally.objects.bulk_create(compute.effect_tallies(chunk), batch_size=2_000)


def _rewrite_buyers(seller_id: int, buyers: set[int]) -> None:
    ordered = sorted(buyers)
    for start in range(0, len(ordered), BUYERS_PER_QUERY):
        chunk = ordered[start : start + BUYERS_PER_QUERY]
        BuyerTally.objects.filter(seller_id=seller_id, buyer_id__in=chunk).delete()
        BuyerTally.objects.bulk_create(compute.buyer_tallies(seller_id, chunk), batch_size=2_000)
    blocks = sorted({buyer // BLOCK for buyer in buyers})
    for chunk in compute.chunks(blocks):
        BuyerBlockTally.objects.filter(seller_id=seller_id, block__in=chunk).delete()
        BuyerBlockTally.objects.bulk_create(compute.buyer_block_tallies(seller_id, chunk))


def rewrite(dirty: Dirty) -> None:
    _rewrite_policy_blocks(dirty.policy_blocks)
    _rewrite_order_blocks(dirty.order_blocks)
    for seller_id, buyers in dirty.buyers.items():
        _rewrite_buyers(seller_id, buyers)


def summaries_refresh(*, full: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Bring the tallies up to date; ``full`` rebuilds every one of them from the raw rows."""
    now = now or timezone.now()
    SummaryState.objects.get_or_create(name=STATE)
    with transaction.atomic():
        state = SummaryState.objects.select_for_update().get(name=STATE)
        horizon = safe_horizon(now)
        full = full or state.safe_until is None
        if full:
            for model in ALL_TALLIES:
                model.objects.all().delete()
            dirty = dirty_all()
        else:
            dirty = dirty_since(state.safe_until)
        rewrite(dirty)
        state.safe_until = horizon if state.safe_until is None else max(state.safe_until, horizon)
        state.refreshed_at = now
        state.save(update_fields=["safe_until", "refreshed_at"])
    result = {
        "full": full,
        "policy_blocks": len(dirty.policy_blocks),
        "order_blocks": len(dirty.order_blocks),
        "buyers": sum(len(b) for b in dirty.buyers.values()),
        "safe_until": state.safe_until.isoformat(),
    }
    if full:
        logger.info("summaries rebuilt: %s", result)
    return result


def last_refreshed() -> datetime | None:
    """When the tallies were last brought up to date (the pages show it)."""
    return SummaryState.objects.filter(name=STATE).values_list("refreshed_at", flat=True).first()
