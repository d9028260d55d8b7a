"""Where settlement's time goes: one batch of approved claims, statement by statement.

    DATABASE_URL=postgres://… python -m bench.profile [--batch 5000]

Settlement is set-based SQL, so a Python profiler sees only time spent waiting on the database;
this prints each statement's share of one batch instead (Django's query capture), which is what
limits the ratio to the bare INSERT … SELECT baseline. Run it on a database with approved claims
(e.g. after `manage.py simulate_campaign --orders 100000 --price-drop-share 1`).
"""

import argparse
import re
import time

from bench.steps import setup


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.services import claims_settle_batch

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        paid = claims_settle_batch(batch_size=args.batch)
        total = time.perf_counter() - started
    print(f"one batch: {paid} claims in {total:.3f} s ({total / max(paid, 1) * 1e6:.0f} µs per claim)")
    rows = [(float(q["time"]), re.sub(r"\s+", " ", q["sql"])[:90]) for q in queries.captured_queries]
    for seconds, sql in sorted(rows, reverse=True)[:12]:
        print(f"{seconds:7.3f} s {seconds / total:6.1%}  {sql}")


if __name__ == "__main__":
    main()
