"""Buyers file claims over HTTP (gunicorn, PostgreSQL), next to the same stack answering a bare
authenticated ``GET /api/v1/me/`` (token authentication and one query) in the same run; pgbench's
TPC-B on the same server is kept for context.

    python -m bench.run --only claims-http           # with scripts/bench.sh's environment
    BENCH_HTTP_SECONDS=10 BENCH_HTTP_PROFILE=/tmp/claims.txt python -m bench.run --only claims-http

1. ``prepare`` (a step): bench/simulate.py ``--evidence-only`` builds N claimable policies, each
   with the buyer's matching evidence order and no claim; every simulated buyer gets an API token
   (one ``INSERT … SELECT``); one target per policy (token, order, line, evidence order) goes to
   a file. The broker's queue is purged, so it holds only this run's messages.
2. gunicorn serves ``config.wsgi`` (DEBUG off, 4 sync workers: on 2 cores they beat gthread) with
   the claims throttle *lifted* (still counted in the cache). Filing stores the claim as
   'submitted' and enqueues its adjudication after commit on the broker; no Celery worker runs,
   so what is measured is the filing itself.
3. The load (bench/loads.py, its own process, no Django): warm-up; a closed loop (one request per
   worker in flight) → peak claims/s; an open loop at half that rate → latency from each
   request's scheduled time; the same closed loop on ``GET /api/v1/me/`` → the baseline.
4. ``verify`` (a step): the claims in the database and the messages on the broker match the 201s.
5. pgbench TPC-B, gunicorn stopped.

``BENCH_HTTP_<OPTION>`` variables set the options below (e.g. ``BENCH_HTTP_WORKERS=3``);
``BENCH_HTTP_PROFILE=FILE`` samples gunicorn's Python with py-spy during the peak (costs ~10 %).
"""

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cpu import background_cores, cpu_ms_per_request
from bench.loads import load_phase
from bench.pgbench import pgbench
from bench.proc import run_step
from bench.pyspy_profile import profile_start, profile_summary
from bench.registry import Config, result
from bench.server import Gunicorn, server_errors

GOAL_RATIO, GOAL_P99_MS = 0.5, 50.0
DEFAULTS = {
    "workers": 4,
    "worker_class": "sync",
    "threads": 1,
    "concurrency": 0,  # closed loop: requests in flight; 0 = workers × threads
    "max_in_flight": 64,  # open loop: beyond this the client waits (and the wait counts as latency)
    "warmup_seconds": 3.0,
    "seconds": 20.0,
    "baseline_seconds": 15.0,
    "pgbench_scale": 10,
    "pgbench_clients": 8,
    "pgbench_threads": 2,
    "pgbench_seconds": 20,
    "client": "raw",  # "raw" (asyncio streams) or "httpx"
    "profile": "",  # a file for py-spy's samples of the peak ("" = no profile)
}


# --- steps (Django) --------------------------------------------------------------------------


def tokens_create(*, campaign: int) -> int:
    """An API token for every buyer of the campaign's policies who has none, in one statement
    (random 40-hex keys, as DRF makes them)."""
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from insurance.models import Coverage, Policy
    from orders.models import CampaignItem

    if connection.vendor == "postgresql":
        key = "substr(md5(random()::text || b.buyer_id) || md5(b.buyer_id || random()::text), 1, 40)"
    else:
        key = "lower(hex(randomblob(20)))"
    coverage_ids = (
        f"SELECT c.id FROM {Coverage._meta.db_table} c JOIN {CampaignItem._meta.db_table} i "
        "ON i.id = c.campaign_item_id WHERE i.campaign_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Token._meta.db_table} (key, user_id, created) SELECT {key}, b.buyer_id, %s "
            f"FROM (SELECT DISTINCT buyer_id FROM {Policy._meta.db_table} WHERE coverage_id IN ({coverage_ids})) b "
            f"WHERE NOT EXISTS (SELECT 1 FROM {Token._meta.db_table} t WHERE t.user_id = b.buyer_id)",
            [connection.ops.adapt_datetimefield_value(timezone.now()), campaign],
        )
        return cursor.rowcount


def targets_write(*, campaign: int, prefix: str, evidence_prefix: str, path: Path) -> int:
    """One row per claimable policy of the campaign that has an evidence order and no claim:
    ``token, order number, line id, evidence number``, in the order they were simulated, so that
    consecutive requests come from different buyers."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from claims.models import Claim
    from insurance.models import Policy, PolicyState
    from orders.models import Order, OrderLine

    order, line, policy, claim, token = (m._meta.db_table for m in (Order, OrderLine, Policy, Claim, Token))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.key, o.number, l.id, e.number FROM {order} o "
            f"JOIN {line} l ON l.order_id = o.id JOIN {policy} p ON p.order_line_id = l.id "
            f"JOIN {token} t ON t.user_id = p.buyer_id "
            f"JOIN {order} e ON e.number = %s || substr(o.number, %s) AND e.buyer_id = o.buyer_id "
            f"WHERE o.campaign_id = %s AND p.state = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {claim} c WHERE c.policy_id = p.id) ORDER BY o.id",
            [evidence_prefix, len(prefix) + 1, campaign, PolicyState.CLAIMABLE],
        )
        count = 0
        with path.open("w") as out:
            while rows := cursor.fetchmany(10_000):
                out.writelines(f"{k}\t{o}\t{li}\t{e}\n" for k, o, li, e in rows)
                count += len(rows)
    return count


def _broker_purge() -> int:
    """Messages dropped from the broker's default queue (the benchmark's broker, no worker)."""
    from config.celery import app

    return app.control.purge() or 0


def prepare(*, policies: int, targets: str) -> dict:
    """*Step.* Claimable policies with evidence, tokens, and the targets file."""
    from bench.simulate import step as simulate

    started = time.perf_counter()
    purged_before = _broker_purge()
    simulated = simulate(orders=policies, price_drop_share=1, claims_share=1, evidence_only=True)
    tokens = tokens_create(campaign=simulated["campaign"])
    written = targets_write(
        campaign=simulated["campaign"],
        prefix=simulated["prefix"],
        evidence_prefix=simulated["evidence_prefix"],
        path=Path(targets),
    )
    return {
        "campaign": simulated["campaign"],
        "orders": simulated["orders"],
        "evidence_orders": simulated["evidence_orders"],
        "tokens": tokens,
        "targets": written,
        "purged_before": purged_before,
        "seconds": time.perf_counter() - started,
    }


def verify(*, campaign: int) -> dict:
    """*Step.* What the load left: the campaign's claims by state, and the messages it enqueued (purged)."""
    from django.db.models import Count

    from claims.models import Claim

    states = dict(
        Claim.objects.filter(policy__order_line__order__campaign_id=campaign)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {"claims": sum(states.values()), "states": states, "enqueued": _broker_purge()}


# --- the scenario ------------------------------------------------------------------------------


def options_from_env() -> dict:
    """DEFAULTS, overridden by BENCH_HTTP_<NAME> environment variables (e.g. BENCH_HTTP_WORKERS)."""
    options = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = os.environ.get(f"BENCH_HTTP_{name.upper()}")
        if raw:
            try:
                options[name] = type(default)(raw)
            except ValueError:
                raise ValueError(
                    f"BENCH_HTTP_{name.upper()}: {raw!r} is not a {type(default).__name__}"
                ) from None
    options["concurrency"] = options["concurrency"] or options["workers"] * options["threads"]
    return options


def _peak(server: Gunicorn, options: dict, common: dict) -> tuple[dict, dict, int]:
    """Warm-up and peak (closed loops, with py-spy on the peak if asked). → (peak, profile, used)."""
    warmup = load_phase(
        server, label="warm-up", mode="closed", seconds=options["warmup_seconds"], offset=0, **common
    )
    spy = None
    if options["profile"]:
        spy = profile_start(server.process.pid, options["profile"], options["seconds"])
    peak = load_phase(
        server,
        label="peak (claims)",
        mode="closed",
        seconds=options["seconds"],
        offset=warmup["consumed"],
        **common,
    )
    profile: dict = {}
    if spy is not None:
        spy.wait()
        profile = profile_summary(options["profile"])
        print("  profile of the peak: " + ", ".join(profile["by_package"][:8]), flush=True)
    return {"warmup": warmup, "peak": peak}, profile, warmup["consumed"] + peak["consumed"]


def _load(server: Gunicorn, options: dict, targets: str) -> tuple[dict, dict]:
    common = {"targets": targets, "concurrency": options["concurrency"], "client": options["client"]}
    phases, profile, used = _peak(server, options, common)
    phases["half"] = load_phase(
        server,
        label="half the peak (claims)",
        mode="open",
        seconds=options["seconds"],
        offset=used,
        rate=phases["peak"]["per_second"] / 2,
        max_in_flight=options["max_in_flight"],
        targets=targets,
        client=options["client"],
    )
    phases["baseline"] = load_phase(
        server,
        label="GET /api/v1/me/",
        mode="closed",
        seconds=options["baseline_seconds"],
        action="me",
        **common,
    )
    return phases, profile


def _figures(phases: dict, checked: dict, prepared: dict, options: dict, extra: dict) -> dict:
    peak, half = phases["peak"], phases["half"]
    claiming = [phases[name] for name in ("warmup", "peak", "half")]
    return {
        "claims_per_second": peak["per_second"],
        "peak_p50_ms": peak["latency"].get("p50_ms"),
        "peak_p99_ms": peak["latency"].get("p99_ms"),
        "offered_rate": half["offered_rate"],
        "achieved_rate": half["per_second"],
        "p50_ms": half["latency"].get("p50_ms"),
        "p99_ms": half["latency"].get("p99_ms"),
        "errors": sum(p["errors"] for p in claiming),
        "claims_filed": sum(p["ok"] for p in claiming),
        "claims_in_database": checked["claims"],
        # per claim: its adjudication and the e-mail of the seller's notice (after commit)
        "messages_enqueued": checked["enqueued"],
        "server": f"{options['workers']} {options['worker_class']} workers × {options['threads']} threads",
        "closed_loop_concurrency": options["concurrency"],
        "cpu_cores_at_peak": peak["cpu_cores"],
        "cpu_ms_per_claim_at_peak": cpu_ms_per_request(peak),
        "ran_out_of_policies": any(p.get("exhausted") for p in (peak, half)),
        "phases": phases,
        "prepared": prepared,
        **extra,
    }


def _serve(options: dict, targets: str, tmp: str) -> tuple[dict, dict, list[str]]:
    log = Path(tmp) / "gunicorn.log"
    try:
        with Gunicorn(
            workers=options["workers"],
            worker_class=options["worker_class"],
            threads=options["threads"],
            log=log,
        ) as server:
            phases, profile = _load(server, options, targets)
    finally:
        errors_logged = server_errors(log)
    return phases, profile, errors_logged


def run(config: Config, **overrides: Any) -> list[dict]:
    options = {**options_from_env(), **overrides}
    with tempfile.TemporaryDirectory(prefix="baojia-bench-http-") as tmp:
        targets = str(Path(tmp) / "targets.tsv")
        prepared = run_step(
            "bench.claims_http:prepare", {"policies": config.http_policies, "targets": targets}
        )
        print(
            f"  {prepared['targets']:,} claimable policies with evidence, {prepared['tokens']:,} tokens",
            flush=True,
        )
        idle = background_cores()
        phases, profile, errors_logged = _serve(options, targets, tmp)
        checked = run_step("bench.claims_http:verify", {"campaign": prepared["campaign"]})
    context = pgbench(
        scale=options["pgbench_scale"],
        clients=options["pgbench_clients"],
        threads=options["pgbench_threads"],
        seconds=options["pgbench_seconds"],
    )
    print(f"  pgbench TPC-B: {context['tps']:.0f} TPS", flush=True)
    extra = {"background_cores_before": idle, "server_errors_logged": errors_logged[:5], "profile": profile}
    extra["pgbench_tpc_b"] = {
        **context,
        "claims_per_tps": round(phases["peak"]["per_second"] / context["tps"], 3),
    }
    figures = _figures(phases, checked, prepared, options, extra)
    me = phases["baseline"]
    ratio = phases["peak"]["per_second"] / me["per_second"] if me["per_second"] else 0.0
    consistent = checked["claims"] == figures["claims_filed"] == checked["enqueued"]
    met = (
        ratio >= GOAL_RATIO
        and (figures["p99_ms"] or float("inf")) <= GOAL_P99_MS
        and figures["errors"] == 0
        and me["errors"] == 0
        and consistent
        and not figures["ran_out_of_policies"]
    )
    baseline = {
        "what": "GET /api/v1/me/ on the same gunicorn, same run: token authentication and one query",
        "requests_per_second": me["per_second"],
        "p50_ms": me["latency"].get("p50_ms"),
        "p99_ms": me["latency"].get("p99_ms"),
        "errors": me["errors"],
        "cpu_ms_per_request": cpu_ms_per_request(me),
    }
    return [
        result(
            key="claims-http",
            name="file claims over HTTP: claims/s ÷ GET /api/v1/me/ answers/s (same stack, same run)",
            figures=figures,
            baseline=baseline,
            ratio=ratio,
            goal=f"ratio ≥ {GOAL_RATIO}; p99 ≤ {GOAL_P99_MS:.0f} ms at ½ peak; 0 errors",
            met=met,
        )
    ]
