"""One benchmark step per call, each run in its own process by ``bench/run.py`` so that its time
and peak memory are its own. Every step prints one JSON object on stdout.

    python -m bench.steps simulate --orders 100000 --price-drop-share 0
    python -m bench.steps close-baseline --campaign 3
    python -m bench.steps close --campaign 3
"""

import argparse
import io
import json
import os
import re
import sys
import time
from contextlib import redirect_stdout
from datetime import timedelta


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


class Rollback(Exception):
    """Raised to undo a baseline: it measures the row work, then leaves the data as it was."""


def _window_end(campaign_id: int):
    from django.db.models import Max

    from insurance.models import Policy

    return Policy.objects.filter(coverage__campaign_item__campaign_id=campaign_id).aggregate(
        end=Max("window_ends_at")
    )["end"]


def simulate(
    *,
    orders: int,
    price_drop_share: float,
    claims_share: float = 1.0,
    evidence_only: bool = False,
    orders_per_buyer: int = 10,
) -> dict:
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out):
        call_command(
            "simulate_campaign",
            orders=orders,
            price_drop_share=price_drop_share,
            claims_share=claims_share,
            evidence_only=evidence_only,
            orders_per_buyer=orders_per_buyer,
            stdout=out,
        )
    seconds = time.perf_counter() - started
    summary = re.search(
        r"campaign (\d+) .*, (\d+) evidence orders, .*insured orders (\S+)<n>, evidence orders (\S+)<n>",
        out.getvalue(),
    )
    return {
        "campaign": int(summary[1]),
        "orders": orders,
        "evidence_orders": int(summary[2]),
        "prefix": summary[3],
        "evidence_prefix": summary[4],
        "seconds": seconds,
    }


def close_baseline(*, campaign: int) -> dict:
    """The same row work as closing the window, as one bare UPDATE (rolled back)."""
    from django.db import connection, transaction

    from insurance.models import Coverage, Policy

    coverage_ids = list(
        Coverage.objects.filter(campaign_item__campaign_id=campaign).values_list("pk", flat=True)
    )
    placeholders = ", ".join(["%s"] * len(coverage_ids))
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Policy._meta.db_table} SET state = 'expired', expired_at = %s "
                f"WHERE coverage_id IN ({placeholders}) AND state = 'claimable'",
                [connection.ops.adapt_datetimefield_value(_window_end(campaign)), *coverage_ids],
            )
            rows = cursor.rowcount
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return {"rows": rows, "seconds": seconds}


def close(*, campaign: int) -> dict:
    """Close the campaign's claim window through the product's own periodic service."""
    from insurance.services import policy_windows_advance

    now = _window_end(campaign) + timedelta(seconds=1)
    started = time.perf_counter()
    result = policy_windows_advance(now=now)
    return {"rows": result["expired"], "seconds": time.perf_counter() - started, "result": result}


def settle_baseline() -> dict:
    """The same ledger rows as settling every approved claim — a transfer and its two entries
    per claim — as bare INSERT … SELECT statements (rolled back)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from alipay.models import Account, Entry, Transfer
    from claims.models import Claim

    claim, transfer, entry = Claim._meta.db_table, Transfer._meta.db_table, Entry._meta.db_table
    new_id = "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    from alipay.services import system_account

    insurer = Account.objects.filter(kind="insurer").values_list("pk", flat=True).first()
    buyer_account = system_account("external").pk  # any other account: the row work is the same
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {transfer} (id, key, kind, memo, reference, created_at) "
                f"SELECT {new_id}, 'bench:' || c.id, 'payout', c.number, 'claim:' || c.id, %s "
                f"FROM {claim} c WHERE c.state = 'approved'",
                [now],
            )
            rows = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {entry} (transfer_id, account_id, amount_fen, created_at) "
                f"SELECT t.id, %s, -c.compensation_fen, %s FROM {claim} c JOIN {transfer} t ON t.key = 'bench:' || c.id "
                f"WHERE c.state = 'approved' UNION ALL "
                f"SELECT t.id, %s, c.compensation_fen, %s FROM {claim} c JOIN {transfer} t ON t.key = 'bench:' || c.id "
                f"WHERE c.state = 'approved'",
                [insurer, now, buyer_account, now],
            )
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return {"rows": rows, "seconds": seconds}


def settle() -> dict:
    from alipay.models import Entry
    from alipay.selectors import ledger_discrepancies
    from claims.services import claims_settle

    started = time.perf_counter()
    paid = claims_settle()
    seconds = time.perf_counter() - started
    entries = Entry.objects.count()
    again = claims_settle()
    return {
        "rows": paid,
        "seconds": seconds,
        "second_run_paid": again,
        "second_run_entries_added": Entry.objects.count() - entries,
        "ledger_discrepancies": [d.code for d in ledger_discrepancies()],
    }


STEPS = {
    "simulate": simulate,
    "close-baseline": close_baseline,
    "close": close,
    "settle-baseline": settle_baseline,
    "settle": settle,
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--orders", type=int)
    parser.add_argument("--price-drop-share", type=float, default=0.0)
    parser.add_argument("--claims-share", type=float, default=1.0)
    parser.add_argument("--campaign", type=int)
    args = parser.parse_args(argv)
    setup()
    kwargs = {}
    if args.step == "simulate":
        kwargs = {
            "orders": args.orders,
            "price_drop_share": args.price_drop_share,
            "claims_share": args.claims_share,
        }
    elif args.step in ("close", "close-baseline"):
        kwargs = {"campaign": args.campaign}
    print(json.dumps(STEPS[args.step](**kwargs), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
