"""Closing a campaign's claim window (``insurance.services.policy_windows_advance``: chunked
``UPDATE … WHERE`` and one audit row per policy by ``INSERT … SELECT``) next to a bare ``UPDATE``
of the same policies, at several campaign sizes.

Between sizes, and between the baseline and the measured run, the database is quiesced
(``VACUUM ANALYZE``, then no autovacuum running: bench/database.py), so that the time per row
measures the product and not the clean-up after the last bulk load or the rolled-back baseline.

Two results: the ratio at the largest size (goal ≤ 2, peak RSS ≤ 400 MB), and the time per row
across sizes (goal: flat, max/min ≤ 1.25).
"""

import time
from datetime import timedelta

from bench.proc import run_step
from bench.registry import Config, result

GOAL_RATIO, GOAL_RSS_MB, GOAL_SPREAD = 2.0, 400.0, 1.25


class Rollback(Exception):
    """Raised to undo a baseline: it measures the row work, then leaves the data as it was."""


def _window_end(campaign: int):
    from django.db.models import Max

    from insurance.models import Policy

    return Policy.objects.filter(coverage__campaign_item__campaign_id=campaign).aggregate(
        end=Max("window_ends_at")
    )["end"]


def baseline(*, campaign: int) -> dict:
    """*Step.* The same row work as closing the window, as one bare UPDATE (rolled back)."""
    from django.db import connection, transaction

    from insurance.models import Coverage, Policy, PolicyState

    coverage_ids = list(
        Coverage.objects.filter(campaign_item__campaign_id=campaign).values_list("pk", flat=True)
    )
    placeholders = ", ".join(["%s"] * len(coverage_ids))
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Policy._meta.db_table} SET state = %s, expired_at = %s "
                f"WHERE coverage_id IN ({placeholders}) AND state = %s",
                [
                    PolicyState.EXPIRED,
                    connection.ops.adapt_datetimefield_value(_window_end(campaign)),
                    *coverage_ids,
                    PolicyState.CLAIMABLE,
                ],
            )
            rows, seconds = cursor.rowcount, time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return {"rows": rows, "seconds": seconds}


def measure(*, campaign: int) -> dict:
    """*Step.* Close the campaign's claim window through the product's own periodic service."""
    from insurance.services import policy_windows_advance

    now = _window_end(campaign) + timedelta(seconds=1)
    started = time.perf_counter()
    done = policy_windows_advance(now=now)
    return {"rows": done["expired"], "seconds": time.perf_counter() - started, "result": done}


def close_at(lines: int) -> dict:
    simulated = run_step("bench.simulate:step", {"orders": lines, "price_drop_share": 0})
    campaign = simulated["campaign"]
    quiet = [run_step("bench.database:quiesce")]
    base = run_step("bench.close:baseline", {"campaign": campaign})
    quiet.append(run_step("bench.database:quiesce"))
    measured = run_step("bench.close:measure", {"campaign": campaign})
    if not measured["rows"] == base["rows"] == lines:
        raise AssertionError(f"closed {measured['rows']}, baseline {base['rows']}, simulated {lines}")
    print(
        f"  {lines:>9,} lines: product {measured['seconds']:7.2f} s (RSS {measured['peak_rss_mb']} MB), "
        f"bare UPDATE {base['seconds']:7.2f} s; quiesce {[q.get('process_seconds') for q in quiet]} s",
        flush=True,
    )
    return {"baseline": base, "measured": measured, "quiesce": quiet}


def _per_row(runs: dict[int, dict], side: str) -> dict[str, float]:
    return {f"{n}": round(run[side]["seconds"] / n * 1e6, 2) for n, run in runs.items()}


def run(config: Config) -> list[dict]:
    runs = {lines: close_at(lines) for lines in sorted(set(config.scale))}
    big = max(runs)
    seconds, base = runs[big]["measured"]["seconds"], runs[big]["baseline"]["seconds"]
    rss = runs[big]["measured"]["peak_rss_mb"]
    per_row = _per_row(runs, "measured")
    spread = max(per_row.values()) / min(per_row.values())
    quiesce = {f"{n}": [q.get("process_seconds") for q in run["quiesce"]] for n, run in runs.items()}
    return [
        result(
            key="close",
            name=f"close the window of a campaign with {big:,} insured lines",
            figures={"seconds": round(seconds, 2), "peak_rss_mb": rss, "rows": runs[big]["measured"]["rows"]},
            baseline={"what": "bare UPDATE of the same policy rows (rolled back)", "seconds": round(base, 2)},
            ratio=seconds / base,
            goal=f"ratio ≤ {GOAL_RATIO:g} and peak RSS ≤ {GOAL_RSS_MB:.0f} MB",
            met=seconds / base <= GOAL_RATIO and rss <= GOAL_RSS_MB,
        ),
        result(
            key="close",
            name="scaling: closing the window, time per row at " + ", ".join(f"{n:,}" for n in runs),
            figures={
                "microseconds_per_row": per_row,
                "peak_rss_mb": {f"{n}": run["measured"]["peak_rss_mb"] for n, run in runs.items()},
                "quiesce_seconds_before_baseline_and_run": quiesce,
            },
            baseline={"what": "bare UPDATE, µs per row", "microseconds_per_row": _per_row(runs, "baseline")},
            ratio=spread,
            goal=f"flat: max/min time per row ≤ {GOAL_SPREAD}",
            met=spread <= GOAL_SPREAD,
        ),
    ]
