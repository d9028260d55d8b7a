"""Benchmark: price-drop detection (主动保价) over a million claimable policies and ten million
price records, next to bare SQL computing the same minimum per policy, in the same run.

    python -m bench.detection run --policies 1000000 --records 10000000     # every step, a table
    python -m bench.detection seed --policies 1000 --records 10000          # one step (JSON out)

Steps run in their own processes (``run`` starts them) so each has its own time and peak RSS:

- ``seed``: ``simulate_campaign`` campaigns (their windows opened ten days ago, five days left),
  the insured lines' own price records, and random public prices over the last forty days for
  the campaigns' products and for other products; half the campaigns' products sell below what
  their buyers paid at some point, the other half never do.
- ``baseline``: one bare SQL statement materialising, for every claimable open policy, the lowest
  price record of its product and spec inside its window (own order left out), the best index in
  place; ``baseline-grouped`` computes the same numbers once per product + spec + window and
  joins them back to the policies (the strongest bare SQL for this data).
- ``full``: ``price_drops_detect(full=True)`` — drops and notices written.
- ``incremental``: 1,000 new price records, then ``price_drops_detect()``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAYS_OF_PRICES = 40
WINDOW_OPENED_DAYS_AGO = 10
PAID_FEN = 15_900  # simulate_campaign's campaign price: what every insured buyer paid


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _t(value):
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value)


def _series(low: int, high: int) -> str:
    from bench.simulate_rows import series

    return series(low, high)


def _seconds_after(base_sql: str, seconds_sql: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"({base_sql} + ({seconds_sql}) * INTERVAL '1 second')"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {base_sql}, '+' || ({seconds_sql}) || ' seconds')"


# --- seed -------------------------------------------------------------------------------------


def _simulate(policies: int, campaigns: int) -> list[int]:
    from bench.simulate import Plan, simulate

    ids = []
    for k in range(campaigns):
        share = policies // campaigns + (1 if k < policies % campaigns else 0)
        ids.append(simulate(Plan(orders=share, price_drop_share=0)).campaign)
    return ids


def _open_windows_ten_days_ago(campaign_ids: list[int]) -> None:
    """simulate_campaign ends its campaigns an hour ago; move them so that ten days of the window
    have passed (and with them ten days of prices)."""
    from django.db.models import F

    from insurance.models import Policy
    from orders.models import Campaign

    shift = timedelta(days=WINDOW_OPENED_DAYS_AGO)
    Campaign.objects.filter(pk__in=campaign_ids).update(
        starts_at=F("starts_at") - shift, ends_at=F("ends_at") - shift
    )
    Policy.objects.filter(coverage__campaign_item__campaign_id__in=campaign_ids).update(
        window_starts_at=F("window_starts_at") - shift,
        window_ends_at=F("window_ends_at") - shift,
        claimable_at=F("claimable_at") - shift,
    )


def _price_targets(campaign_ids: list[int], noise_products: int) -> list[tuple[int, int]]:
    """(SKU id, lowest price it ever sells at): the campaigns' SKUs (every second campaign's
    product drops below what was paid) and one SKU each of other products."""
    from shops.models import CatalogProduct, Listing, Sku, specs_key

    targets = []
    for k, campaign_id in enumerate(campaign_ids):
        floor = PAID_FEN - 1_400 if k % 2 == 0 else PAID_FEN
        targets += [(pk, floor) for pk in _campaign_skus([campaign_id])]
    shop = Sku.objects.get(pk=targets[0][0]).listing.shop
    tag = time.strftime("%d%H%M%S")
    for n in range(noise_products):
        product = CatalogProduct.objects.create(brand="模拟", model=f"NOISE-{tag}-{n}", name=f"其他商品 {n}")
        listing = Listing.objects.create(shop=shop, product=product, title=f"其他商品 {n}")
        specs = {"颜色": "黑色"}
        sku = Sku.objects.create(listing=listing, specs=specs, specs_key=specs_key(specs), price_fen=19_900)
        targets.append((sku.pk, 9_000))
    return targets


def _campaign_skus(campaign_ids: list[int]) -> list[int]:
    """Every SKU (any shop) of the products the campaigns sold."""
    from orders.models import CampaignItem
    from shops.models import Sku

    products = CampaignItem.objects.filter(campaign_id__in=campaign_ids).values("sku__listing__product_id")
    return list(
        Sku.objects.filter(listing__product_id__in=products).order_by("pk").values_list("pk", flat=True)
    )


def _insert_line_records(campaign_ids: list[int]) -> int:
    """The insured lines' own actual prices, as order_pay records them (before the window)."""
    from django.db import connection, transaction

    from orders.models import Order, OrderLine
    from shops.models import Listing, PriceRecord, Shop, Sku

    record, line, order, sku, listing, shop = (
        m._meta.db_table for m in (PriceRecord, OrderLine, Order, Sku, Listing, Shop)
    )
    placeholders = ", ".join(["%s"] * len(campaign_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {record} (product_id, specs_key, sku_id, shop_id, platform, unit_price_fen, "
            "observed_at, source, source_id, order_ref, excluded, recorded_at) "
            "SELECT li.product_id, s.specs_key, s.id, sh.id, sh.platform, l.paid_fen / l.quantity, "
            "o.paid_at, 'order_line', l.id, o.id, %s, o.paid_at "
            f"FROM {line} l JOIN {order} o ON o.id = l.order_id JOIN {sku} s ON s.id = l.sku_id "
            f"JOIN {listing} li ON li.id = s.listing_id JOIN {shop} sh ON sh.id = li.shop_id "
            f"WHERE o.campaign_id IN ({placeholders})",
            [False, *campaign_ids],
        )
        return cursor.rowcount


def _insert_public_records(targets: list[tuple[int, int]], count: int, *, first: int = 0) -> int:
    """``count`` public prices spread over the targets and the last forty days (a fixed
    pseudo-random pattern, the same on every run), each at or above its target's floor. The
    targets are a small table joined to the series by number (a hash join, not a CASE per row)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shops.models import Listing, PriceRecord, Shop, Sku

    record, sku, listing, shop = (m._meta.db_table for m in (PriceRecord, Sku, Listing, Shop))
    span = DAYS_OF_PRICES * 86_400
    since = _t(timezone.now() - timedelta(days=DAYS_OF_PRICES))
    values = ", ".join(f"({i}, {pk}, {floor})" for i, (pk, floor) in enumerate(targets))
    n = "CAST(g.n AS BIGINT)"
    observed = _seconds_after("%s", f"({n} * 104729) %% {span}")
    inserted = 0
    step = 1_000_000
    for low in range(first, first + count, step):
        high = min(first + count, low + step)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {record} (product_id, specs_key, sku_id, shop_id, platform, unit_price_fen, "
                "observed_at, source, source_id, order_ref, excluded, recorded_at) "
                f"WITH t (idx, sku, floor) AS (VALUES {values}), "
                "target AS (SELECT t.idx, t.floor, s.id AS sku, s.specs_key, li.product_id, sh.id AS shop, "
                f"sh.platform FROM t JOIN {sku} s ON s.id = t.sku JOIN {listing} li ON li.id = s.listing_id "
                f"JOIN {shop} sh ON sh.id = li.shop_id) "
                "SELECT x.product_id, x.specs_key, x.sku, x.shop, x.platform, "
                f"x.floor + ({n} * 7919) %% 9500, {observed}, 'list_price', x.sku, NULL, %s, %s "
                f"FROM {_series(low, high)} JOIN target x ON x.idx = {n} %% {len(targets)}",
                [since, False, _t(timezone.now())],
            )
            inserted += cursor.rowcount
    return inserted


@contextmanager
def _indexes_rebuilt_after(table: str):
    """A bulk load's usual shape on PostgreSQL: the table's secondary indexes are dropped, the
    rows written, the very same indexes (their definitions as read) built again, so the measured
    steps see the product's indexes. Elsewhere the rows are written with the indexes in place."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)


def seed(*, policies: int, records: int, campaigns: int = 4, noise_products: int = 40) -> dict:
    from django.db import connection

    started = time.perf_counter()
    campaign_ids = _simulate(policies, campaigns)
    _open_windows_ten_days_ago(campaign_ids)
    targets = _price_targets(campaign_ids, noise_products)
    simulated = time.perf_counter()
    with _indexes_rebuilt_after("shops_pricerecord"):
        lines = _insert_line_records(campaign_ids)
        public = _insert_public_records(targets, max(records - lines, 0))
        written = time.perf_counter()
    indexed = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("shops_pricerecord", "insurance_policy", "orders_orderline", "orders_order"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    steps = {
        "simulate": simulated - started,
        "records": written - simulated,
        "indexes": indexed - written,
        "vacuum": time.perf_counter() - indexed,
    }
    return {
        "campaigns": campaign_ids,
        "records": lines + public,
        "seconds": time.perf_counter() - started,
        "step_seconds": {name: round(seconds, 1) for name, seconds in steps.items()},
    }


# --- measured steps ---------------------------------------------------------------------------


def _policy_sql(now) -> tuple[str, list]:
    """The policies detection covers (claimable, window open, campaign not excluded) with their
    product, spec and order: the same rows the product reads."""
    from django.db.models import F

    from claims.detection import open_policies

    rows = open_policies(now).values(
        "pk",
        "window_starts_at",
        "window_ends_at",
        item=F("order_line__sku__listing__product_id"),
        spec=F("order_line__sku__specs_key"),
        order_ref=F("order_line__order_id"),
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def _materialise(select_sql: str, params: list) -> tuple[int, int, float]:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_lowest")
        cursor.execute(f"CREATE TEMP TABLE bench_lowest AS {select_sql}", params)
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN low < %s THEN 1 ELSE 0 END) FROM bench_lowest", [PAID_FEN]
        )
        policies, dropped = cursor.fetchone()
    return policies, dropped, time.perf_counter() - started


def baseline() -> dict:
    """For each open policy, its lowest record in the window, one correlated lookup per policy."""
    from django.utils import timezone

    now = timezone.now()
    policies_sql, params = _policy_sql(now)
    select = (
        "SELECT p.pk, (SELECT r.unit_price_fen FROM shops_pricerecord r WHERE r.product_id = p.item "
        "AND r.specs_key = p.spec AND r.excluded = %s AND r.observed_at >= p.window_starts_at "
        "AND r.observed_at < p.window_ends_at AND (r.order_ref IS NULL OR r.order_ref <> p.order_ref) "
        f"ORDER BY r.unit_price_fen LIMIT 1) AS low FROM ({policies_sql}) p"
    )
    policies, dropped, seconds = _materialise(select, [False, *params])
    return {"policies": policies, "with_drop": dropped, "seconds": seconds}


def baseline_grouped() -> dict:
    """The same minimum, computed once per product + spec + window and joined back."""
    from django.utils import timezone

    now = timezone.now()
    policies_sql, params = _policy_sql(now)
    select = (
        f"SELECT p.pk, g.low FROM ({policies_sql}) p JOIN (SELECT d.item, d.spec, d.window_starts_at, "
        "d.window_ends_at, (SELECT MIN(r.unit_price_fen) FROM shops_pricerecord r WHERE r.product_id = d.item "
        "AND r.specs_key = d.spec AND r.excluded = %s AND r.observed_at >= d.window_starts_at "
        "AND r.observed_at < d.window_ends_at) AS low "
        f"FROM (SELECT DISTINCT item, spec, window_starts_at, window_ends_at FROM ({policies_sql}) q) d) g "
        "ON g.item = p.item AND g.spec = p.spec AND g.window_starts_at = p.window_starts_at "
        "AND g.window_ends_at = p.window_ends_at"
    )
    policies, dropped, seconds = _materialise(select, [*params, False, *params])
    return {"policies": policies, "with_drop": dropped, "seconds": seconds}


def full() -> dict:
    from claims.detection import price_drops_detect
    from claims.models import PriceDrop
    from notices.models import Notice

    started = time.perf_counter()
    result = price_drops_detect(full=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "drops": PriceDrop.objects.count(),
        "notices": Notice.objects.filter(kind="drop_detected").count(),
        "result": result,
    }


def incremental(*, new: int = 1_000) -> dict:
    from django.db.models import Max

    from claims.detection import price_drops_detect
    from claims.models import PriceDrop
    from orders.models import CampaignItem
    from shops.models import PriceRecord

    # New sales of the campaigns' products at ordinary prices (none lower than the lowest seen).
    campaigns = CampaignItem.objects.filter(coverage__policies__isnull=False).values("campaign_id").distinct()
    targets = [
        (pk, PAID_FEN + 100) for pk in _campaign_skus(list(campaigns.values_list("campaign_id", flat=True)))
    ]
    first = (PriceRecord.objects.aggregate(high=Max("pk"))["high"] or 0) + 1
    _insert_public_records(targets, new, first=first)
    before = PriceDrop.objects.count()
    started = time.perf_counter()
    result = price_drops_detect()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "new_records": new,
        "drops_added": PriceDrop.objects.count() - before,
        "result": result,
    }


STEPS = {
    "seed": seed,
    "baseline": baseline,
    "baseline-grouped": baseline_grouped,
    "full": full,
    "incremental": incremental,
}


# --- the scenario -----------------------------------------------------------------------------


def step(name: str, **options) -> dict:
    """Run one step in its own process; its wall time and peak RSS are its own."""
    argv = [sys.executable, "-m", "bench.detection", name]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, env=os.environ.copy())
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench step {name} {options} failed")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    print(
        f"  detection {name:18} {result.get('seconds', 0):8.2f}s  rss {result['peak_rss_mb']} MB", flush=True
    )
    return result


def run(*, policies: int = 1_000_000, records: int = 10_000_000) -> list[dict]:
    """Seed, measure, and return the two scenarios in bench/results.json's shape."""
    print(f"price-drop detection: {policies:,} policies, {records:,} price records", flush=True)
    seeded = step("seed", policies=policies, records=records)
    per_policy = step("baseline")
    grouped = step("baseline-grouped")
    measured = step("full")
    again = step("incremental")
    assert per_policy["with_drop"] == grouped["with_drop"] == measured["drops"], (
        per_policy,
        grouped,
        measured,
    )
    ratio = measured["seconds"] / per_policy["seconds"]
    share = again["seconds"] / measured["seconds"]
    return [
        {
            "name": f"detect price drops: {policies:,} claimable policies, {records:,} price records (full)",
            "figures": {
                "seconds": round(measured["seconds"], 2),
                "peak_rss_mb": measured["peak_rss_mb"],
                "drops": measured["drops"],
                "notices": measured["notices"],
                "seed_seconds": round(seeded["seconds"], 1),
                "seed_step_seconds": seeded["step_seconds"],
                "ratio_to_grouped_sql": round(measured["seconds"] / grouped["seconds"], 2),
            },
            "baseline": {
                "what": "one bare SQL statement: the lowest record per policy, materialised",
                "seconds": round(per_policy["seconds"], 2),
                "grouped_sql_seconds": round(grouped["seconds"], 2),
            },
            "ratio": round(ratio, 2),
            "goal": "ratio ≤ 3 and peak RSS ≤ 400 MB",
            "met": ratio <= 3 and measured["peak_rss_mb"] <= 400,
        },
        {
            "name": f"detect price drops incrementally: {again['new_records']:,} new records",
            "figures": {
                "seconds": round(again["seconds"], 3),
                "percent_of_full": round(share * 100, 2),
                "peak_rss_mb": again["peak_rss_mb"],
            },
            "baseline": {"what": "the full detection above", "seconds": round(measured["seconds"], 2)},
            "ratio": round(share, 4),
            "goal": "≤ 1 % of the full detection's time",
            "met": share <= 0.01,
        },
    ]


def scenario(config) -> list[dict]:
    """bench/registry.py's entry: the two results above, each a row of bench/results.json."""
    from bench.registry import result

    rows = run(policies=config.detect_policies, records=config.detect_records)
    return [result(key="detection", **row) for row in rows]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=[*sorted(STEPS), "run"])
    parser.add_argument("--policies", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    if args.step == "run":
        print(json.dumps(run(policies=args.policies, records=args.records), ensure_ascii=False, indent=2))
        return
    setup()
    kwargs = {"policies": args.policies, "records": args.records} if args.step == "seed" else {}
    print(json.dumps(STEPS[args.step](**kwargs), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
