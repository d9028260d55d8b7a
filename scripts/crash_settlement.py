"""Crash test: a real Celery worker on Redis + PostgreSQL settling approved claims is killed with
SIGKILL at a random moment and restarted, trial after trial. Every claim must end paid exactly
once, none stuck, and the ledger must reconcile.

    bash scripts/ci_services.sh            # PostgreSQL + Redis on loopback (CI's throw-away ones)
    .venv/bin/python scripts/crash_settlement.py --trials 10 --claims 10000

It makes its own database (baojia_crash) unless DATABASE_URL is set, and prints a JSON summary.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://baojia:baojia@127.0.0.1:55432"
QUEUE = "crash-test"


def prepare_environment() -> dict:
    env = os.environ.copy()
    if "DATABASE_URL" not in env:
        subprocess.run(["bash", "scripts/ci_services.sh"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        psql = ["psql", "-q", f"{PG}/baojia", "-c"]
        subprocess.run([*psql, "DROP DATABASE IF EXISTS baojia_crash"], check=True, stderr=subprocess.DEVNULL)
        subprocess.run([*psql, "CREATE DATABASE baojia_crash"], check=True)
        env["DATABASE_URL"] = f"{PG}/baojia_crash"
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:56379/4")
    env.update(
        {
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            # Small batches: a settlement of 10,000 claims is dozens of transactions to interrupt.
            "BAOJIA_BATCH_SIZE": env.get("BAOJIA_BATCH_SIZE", "250"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def start_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-c",
            "2",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes the pool children too
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if args.trials < 1 or args.claims < 1:
        raise SystemExit("--trials and --claims must be positive")
    rng = random.Random(args.seed)
    env = prepare_environment()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Count

    from alipay.models import Transfer, TransferKind
    from claims.models import Claim, ClaimState, Payout
    from claims.reconciliation import discrepancies
    from config.celery import app

    log = open(ROOT / "var" / "crash-worker.log", "a")  # noqa: SIM115 - kept open across trials
    trials = []
    for trial in range(1, args.trials + 1):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.simulate",
                "--orders",
                str(args.claims),
                "--price-drop-share",
                "1",
                "--json",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        campaign = json.loads(out)["campaign"]
        claims = Claim.objects.filter(policy__coverage__campaign_item__campaign_id=campaign)
        assert claims.filter(state=ClaimState.APPROVED).count() == args.claims

        worker = start_worker(env, log)
        for _ in range(4):  # several settlers at once: SKIP LOCKED gives each its own batches
            app.send_task("claims.tasks.claims_settle", queue=QUEUE)
        delay = rng.uniform(0.3, 3.0)
        time.sleep(delay)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        paid_at_kill = claims.filter(state=ClaimState.PAID).count()

        started = time.monotonic()
        worker = start_worker(env, log)
        app.send_task("claims.tasks.claims_sweep", queue=QUEUE)  # what beat sends every 30 s
        while claims.filter(state=ClaimState.APPROVED).exists() and time.monotonic() - started < 600:
            time.sleep(1)
            if int(time.monotonic() - started) % 30 == 0:
                app.send_task("claims.tasks.claims_sweep", queue=QUEUE)
        recovered_in = time.monotonic() - started
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)

        paid = claims.filter(state=ClaimState.PAID).count()
        payouts = Payout.objects.filter(claim__in=claims).count()
        twice = (
            Transfer.objects.filter(
                kind=TransferKind.PAYOUT,
                reference__in=[f"claim:{pk}" for pk in claims.values_list("pk", flat=True)],
            )
            .values("reference")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        result = {
            "trial": trial,
            "claims": args.claims,
            "killed_after_seconds": round(delay, 2),
            "paid_when_killed": paid_at_kill,
            "paid": paid,
            "payouts": payouts,
            "double_payouts": twice,
            "lost": args.claims - paid,
            "stuck": claims.exclude(state=ClaimState.PAID).count(),
            "recovered_in_seconds": round(recovered_in, 1),
            "ledger_discrepancies": [d.code for d in discrepancies()],
        }
        trials.append(result)
        print(json.dumps(result), flush=True)

    summary = {
        "trials": len(trials),
        "claims_per_trial": args.claims,
        "kills_mid_settlement": sum(0 < t["paid_when_killed"] < args.claims for t in trials),
        "double_payouts": sum(t["double_payouts"] for t in trials),
        "lost": sum(t["lost"] for t in trials),
        "stuck": sum(t["stuck"] for t in trials),
        "ledger_discrepancies": sorted({c for t in trials for c in t["ledger_discrepancies"]}),
        "ok": all(
            t["paid"] == t["payouts"] == args.claims
            and not t["double_payouts"]
            and not t["ledger_discrepancies"]
            for t in trials
        ),
    }
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
