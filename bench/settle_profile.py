"""Where settlement's time goes: one batch of approved claims, statement by statement.

    DATABASE_URL=postgres://… python -m bench.settle_profile [--batch 5000]

Settlement is set-based SQL, so a Python profiler sees only time spent waiting on the database;
this prints each statement's share of one batch instead (Django's query capture). Run it on a
database with approved claims, e.g. after ``python -m bench.simulate --orders 100000
--price-drop-share 1``: it pays one batch of them (committed).
"""

import argparse
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root, not bench/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.settle_profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch", type=int, default=5_000, help="claims in the batch (1 to 100,000)")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 100_000:
        parser.error(f"--batch must be from 1 to 100,000, not {args.batch}")
    from bench.proc import django_setup

    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.services import claims_settle_batch

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        paid = claims_settle_batch(batch_size=args.batch)
        total = time.perf_counter() - started
    if not paid:
        parser.exit(1, "no approved claims to settle: simulate some first (see --help)\n")
    print(f"one batch: {paid} claims in {total:.3f} s ({total / paid * 1e6:.0f} µs per claim)")
    rows = [(float(q["time"]), re.sub(r"\s+", " ", q["sql"])[:90]) for q in queries.captured_queries]
    for seconds, sql in sorted(rows, reverse=True)[:12]:
        print(f"{seconds:7.3f} s {seconds / total:6.1%}  {sql}")


if __name__ == "__main__":
    main(sys.argv[1:])
