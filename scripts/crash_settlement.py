#!/usr/bin/env bash
"""exec" "$(dirname "$0")/../.venv/bin/python" "$0" "$@"
(The line above is for bash: `bash scripts/crash_settlement.py` runs this file with the venv's Python.)

Crash test of settlement (docs/RELIABILITY.md): real Celery workers and beat on Redis and
PostgreSQL pay thousands of approved claims of varied amounts, and once a batch has committed the
test breaks one thing: the worker (SIGKILL to its process group, then a new one), PostgreSQL
(restart in immediate mode) or Redis (SIGKILL, down a few seconds, started again from its AOF).
Recovery is left to the product (beat keeps running; nothing is sent by hand). Then each claim's
payout is checked from the ledger alone against buyers and amounts recorded before settlement.
It runs its own PostgreSQL and Redis (other ports, a temporary folder), never the shared ones:

    bash scripts/crash_settlement.py                       # 3 trials of each kind, 10,000 claims
    bash scripts/crash_settlement.py --kinds worker --trials 10 --claims 10000 --seed 7

Prints one JSON line per trial and a JSON summary; exits non-zero unless every trial is ok.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from crash_servers import Servers  # beside this file

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "crash-test"
SETTLERS = 4  # as approvals do: several settlers at once, SKIP LOCKED gives each its own batches
KINDS = ("worker", "postgres", "redis")
INSURER = "sim-insurer"  # bench.simulate's insurer: its account is debited for every payout
MAX_AMOUNT_FEN = 15_900  # a claim pays at most what the line cost (the campaign price)


# --- the product's processes -----------------------------------------------------------------


def start_celery(env: dict, log, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes the pool children too
    )


def start_worker(env: dict, log) -> subprocess.Popen:
    # One process per settler: at the kill every settle message is running, none waits in the queue.
    return start_celery(env, log, "worker", "-Q", QUEUE, "-c", str(SETTLERS), "-l", "info", "--without-gossip",
                        "--without-mingle")  # fmt: skip


def start_beat(env: dict, log, folder: Path) -> subprocess.Popen:
    schedule = folder / f"beat-schedule-{time.monotonic_ns()}"  # a fresh schedule every trial
    return start_celery(env, log, "beat", "-l", "info", "-s", str(schedule), "--pidfile", "")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- what each claim must receive, recorded before settlement ----------------------------------


def prepare_claims(env: dict, count: int, rng: random.Random) -> dict[int, tuple[int, int]]:
    """A campaign of ``count`` approved claims with varied amounts. Returns, for each claim, the
    insured buyer (from the insured order, not from the claim) and the amount owed."""
    from django.db import connection

    from claims.models import Claim, ClaimState

    out = subprocess.run(
        [sys.executable, "-m", "bench.simulate", "--orders", str(count), "--price-drop-share", "1", "--json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    campaign = json.loads(out)["campaign"]
    claims = Claim.objects.filter(policy__coverage__campaign_item__campaign_id=campaign)
    ids = list(claims.filter(state=ClaimState.APPROVED).values_list("pk", flat=True))
    if len(ids) != count:
        raise SystemExit(f"bench.simulate made {len(ids)} approved claims, not {count}")
    # bench.simulate pays every claim the same 1,000 fen: give each its own amount, 1 fen up
    # to the whole price, so a payout credited to the wrong claim or buyer shows.
    amounts = {pk: rng.choice((1, MAX_AMOUNT_FEN, rng.randint(1, MAX_AMOUNT_FEN))) for pk in ids}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {Claim._meta.db_table} c SET compensation_fen = v.amount, "  # noqa: S608 - our ints
                f"price_difference_fen = v.amount FROM (VALUES {values}) AS v(id, amount) WHERE c.id = v.id",
                [x for pk in chunk for x in (pk, amounts[pk])],
            )
    buyers = dict(claims.values_list("pk", "policy__order_line__order__buyer_id"))
    return {pk: (buyers[pk], amounts[pk]) for pk in ids}


def balances(user_ids: set[int]) -> tuple[dict[int, int], int]:
    """Each buyer's Alipay balance (0 before their first entry) and the insurer's balance."""
    from alipay.models import Account, AccountKind

    found = dict(
        Account.objects.filter(kind=AccountKind.BUYER, user_id__in=user_ids).values_list(
            "user_id", "balance_fen"
        )
    )
    insurer = Account.objects.filter(code=f"insurer:{INSURER}").values_list("balance_fen", flat=True).first()
    return {user: found.get(user, 0) for user in user_ids}, insurer or 0


# --- the independent check ---------------------------------------------------------------------


def _payout_legs(claim_ids: list[int]) -> dict[int, dict[int, list[tuple]]]:
    """claim id → payout transfer id → its legs as (account, amount); a buyer's account is
    ("buyer", user id), any other account ("account", code)."""
    from alipay.models import AccountKind, Entry, TransferKind

    legs: dict[int, dict[int, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(claim_ids), 5_000):
        references = [f"claim:{pk}" for pk in claim_ids[start : start + 5_000]]
        rows = Entry.objects.filter(
            transfer__kind=TransferKind.PAYOUT, transfer__reference__in=references
        ).values_list("transfer_id", "transfer__reference", "account__kind", "account__user_id", "account__code",
                      "amount_fen")  # fmt: skip
        for transfer, reference, kind, user, code, amount in rows:
            account = ("buyer", user) if kind == AccountKind.BUYER else ("account", code)
            legs[int(reference.split(":", 1)[1])][transfer].append((account, amount))
    return legs


def audit_payouts(
    expected: dict[int, tuple[int, int]], *, insurer_code: str, before: dict[int, int] | None = None
) -> dict[str, int]:
    """Check every claim's payout from the ledger alone, against ``expected`` (claim id → (insured
    buyer, amount)). With ``before`` (buyer → balance before settlement) also check that each
    buyer's balance moved by exactly the sum of their claims."""
    from alipay.models import Account, AccountKind

    legs = _payout_legs(list(expected))
    result = Counter({"paid_once": 0, "unpaid": 0, "double": 0, "wrong_account": 0, "wrong_amount": 0})
    for claim, (buyer, amount) in expected.items():
        transfers = list(legs.get(claim, {}).values())
        if not transfers:
            result["unpaid"] += 1
            continue
        if len(transfers) > 1:
            result["double"] += 1
            continue
        want = sorted([(("buyer", buyer), amount), (("account", f"insurer:{insurer_code}"), -amount)])
        got = sorted(transfers[0])
        if got == want:
            result["paid_once"] += 1
        elif [account for account, _ in got] == [account for account, _ in want]:
            result["wrong_amount"] += 1
        else:
            result["wrong_account"] += 1
    if before is not None:
        owed = Counter()
        for buyer, amount in expected.values():
            owed[buyer] += amount
        after = dict(
            Account.objects.filter(kind=AccountKind.BUYER, user_id__in=owed).values_list(
                "user_id", "balance_fen"
            )
        )
        result["balance_mismatches"] = sum(
            after.get(buyer, 0) - before.get(buyer, 0) != total for buyer, total in owed.items()
        )
    return dict(result)


# --- a trial -----------------------------------------------------------------------------------


def _paid(ids: range) -> int:
    from django.db import connections

    from claims.models import Claim, ClaimState

    for attempt in range(120):  # our own connection breaks when PostgreSQL restarts
        try:
            return Claim.objects.filter(pk__in=ids, state=ClaimState.PAID).count()
        except Exception:  # noqa: BLE001 - any database error: reconnect and ask again
            connections.close_all()
            if attempt == 119:
                raise
            time.sleep(0.5)
    return 0


def _disrupt(kind: str, servers: Servers, worker: subprocess.Popen, env: dict, log, ids: range, pause: float):
    """Break ``kind`` and put it back; returns (claims paid when broken, the worker now running)."""
    if kind == "worker":
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        paid = _paid(ids)
        return paid, start_worker(env, log)  # a supervisor restarts it; beat was never stopped
    if kind == "postgres":
        servers.restart_postgres()
        return _paid(ids), worker  # committed batches survived; the ones in flight rolled back
    servers.kill_redis()
    paid = _paid(ids)
    time.sleep(pause)
    servers.start_redis()
    return paid, worker


def _settle_and_break(kind: str, args, servers: Servers, env: dict, log, ids: range, target: int) -> dict:
    """Start beat and a worker, start settling, break ``kind`` once ``target`` claims are paid,
    and wait until every claim is paid (or the timeout)."""
    from config.celery import app

    servers.redis_cli("flushall")  # no messages left from the trial before
    beat = start_beat(env, log, servers.folder)
    worker = start_worker(env, log)
    for _ in range(SETTLERS):
        app.send_task("claims.tasks.claims_settle", queue=QUEUE)
    started = time.monotonic()
    while _paid(ids) < target and time.monotonic() - started < 300:
        time.sleep(0.01)
    queued = servers.redis_count("llen", QUEUE)  # 0: every settle message is with the worker
    broken_at = time.monotonic()
    paid_when_broken, worker = _disrupt(kind, servers, worker, env, log, ids, args.redis_down_seconds)
    while _paid(ids) < len(ids) and time.monotonic() - broken_at < args.timeout:
        time.sleep(0.25)
    recovered_in = time.monotonic() - broken_at
    unacked = servers.redis_count("hlen", "unacked")
    # The messages the broken worker held come back once older than the visibility timeout, at a
    # live worker's next restore pass (kombu runs one at start, then every 100 s), and run again
    # (on nothing: the claims are paid). Wait for them, so the audit sees their effect too.
    while (
        servers.redis_count("hlen", "unacked")
        and time.monotonic() - broken_at < args.visibility_timeout + 150
    ):
        time.sleep(1)
    redelivered_in = time.monotonic() - broken_at
    unacked_left = servers.redis_count("hlen", "unacked")
    stop_process(worker)
    stop_process(beat)
    return {
        "paid_when_broken": paid_when_broken,
        "mid_settlement": args.batch_size <= paid_when_broken < len(ids),
        "queued_when_broken": queued,
        "recovered_in_seconds": round(recovered_in, 1),
        "unacked_after_recovery": unacked,
        "unacked_drained_in_seconds": round(redelivered_in, 1) if unacked and not unacked_left else None,
        "unacked_left": unacked_left,
    }


def run_trial(kind: str, number: int, args, servers: Servers, env: dict, rng: random.Random) -> dict:
    from claims.models import Claim, ClaimState
    from claims.reconciliation import discrepancies

    expected = prepare_claims(env, args.claims, rng)
    ids = range(min(expected), max(expected) + 1)
    assert len(ids) == len(expected), "the trial's claims are not numbered contiguously"
    before, insurer_before = balances({buyer for buyer, _ in expected.values()})
    target = rng.randint(args.batch_size, args.claims // 2)  # break it once this many are paid
    log_path = servers.folder / f"celery-{kind}-{number}.log"
    with open(log_path, "w") as log:
        run = _settle_and_break(kind, args, servers, env, log, ids, target)
    _, insurer_after = balances(set())
    amounts = [amount for _, amount in expected.values()]
    return {
        "kind": kind,
        "trial": number,
        "claims": len(expected),
        "amounts_fen": [min(amounts), max(amounts)],
        **run,
        # What beat sent while the trial ran (claims-settle every 15 s, claims-sweep every 30 s).
        "beat_sent": log_path.read_text().count("Sending due task claims-s"),
        **audit_payouts(expected, insurer_code=INSURER, before=before),
        "insurer_debited_exactly": insurer_before - insurer_after == sum(amounts),
        "stuck": Claim.objects.filter(pk__in=ids).exclude(state=ClaimState.PAID).count(),
        "reconciliation": sorted({d.code for d in discrepancies()}),
    }


def trial_ok(trial: dict) -> bool:
    return (
        trial["mid_settlement"]
        and trial["paid_once"] == trial["claims"]
        and not any(
            trial[k] for k in ("unpaid", "double", "wrong_account", "wrong_amount", "balance_mismatches")
        )
        and trial["insurer_debited_exactly"]
        and not trial["stuck"]
        and not trial["reconciliation"]
    )


LISTED = (
    "queued_when_broken",
    "unacked_after_recovery",
    "unacked_drained_in_seconds",
    "unacked_left",
    "beat_sent",
)
SUMMED = (
    "claims",
    "paid_once",
    "unpaid",
    "double",
    "wrong_account",
    "wrong_amount",
    "balance_mismatches",
    "stuck",
)


def summarize(trials: list[dict]) -> dict:
    by_kind = defaultdict(list)
    for trial in trials:
        by_kind[trial["kind"]].append(trial)
    summary: dict = {}
    for kind, runs in by_kind.items():
        summary[kind] = {
            "trials": len(runs),
            "ok": sum(trial_ok(t) for t in runs),
            "mid_settlement": sum(t["mid_settlement"] for t in runs),
            **{key: sum(t[key] for t in runs) for key in SUMMED},
            **{key: [min(t[key] for t in runs), max(t[key] for t in runs)]
               for key in ("paid_when_broken", "recovered_in_seconds")},
            **{key: [t[key] for t in runs] for key in LISTED},
            "reconciliation": sorted({code for t in runs for code in t["reconciliation"]}),
        }  # fmt: skip
    return {**summary, "ok": bool(trials) and all(trial_ok(t) for t in trials)}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: worker, postgres, redis")
    parser.add_argument("--trials", type=int, default=3, help="trials of each kind (default 3)")
    parser.add_argument("--claims", type=int, default=10_000, help="approved claims per trial")
    parser.add_argument("--batch-size", type=int, default=250, help="claims per settlement batch")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--redis-down-seconds", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for recovery")
    parser.add_argument("--visibility-timeout", type=int, default=30, help="seconds (production: 3600)")
    parser.add_argument("--pg-port", type=int, default=55433)
    parser.add_argument("--redis-port", type=int, default=56380)
    parser.add_argument("--keep", action="store_true", help="keep the servers' folder (logs) afterwards")
    args = parser.parse_args()
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not args.kinds or set(args.kinds) - set(KINDS):
        parser.error(f"--kinds takes {', '.join(KINDS)}")
    if args.trials < 1 or args.claims < 4 * args.batch_size or args.batch_size < 1:
        parser.error("--trials must be positive and --claims at least four batches")
    return args


def main() -> None:
    args = _arguments()
    rng = random.Random(args.seed)
    servers = Servers(pg_port=args.pg_port, redis_port=args.redis_port)
    trials: list[dict] = []
    try:
        servers.start()
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "CELERY_BROKER_URL": servers.broker_url,
            "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/1",
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "BAOJIA_BATCH_SIZE": str(args.batch_size),
            "CELERY_VISIBILITY_TIMEOUT": str(args.visibility_timeout),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        env.pop("DJANGO_ENV", None)
        os.environ.update(env)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        for kind in args.kinds:
            for number in range(1, args.trials + 1):
                trials.append(run_trial(kind, number, args, servers, env, rng))
                print(json.dumps(trials[-1]), flush=True)
    finally:
        servers.stop(keep=args.keep)
    summary = summarize(trials)
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
