"""Scenario 3: buyers file claims over HTTP (gunicorn, PostgreSQL), next to pgbench's TPC-B TPS
measured in the same run on the same server.

    python bench/run.py …                  # runs it after the other scenarios (bench/run.py imports run())
    python -m bench.http                   # this scenario alone, with scripts/bench.sh's environment
    python -m bench.http --worker-class gthread --workers 2 --threads 4 --seconds 10

Each step runs in its own process, like bench/steps.py:

1. ``prepare`` (Django): ``simulate_campaign --evidence-only`` builds N claimable policies, each
   with the buyer's matching evidence order (unpaid, then closed: same product, specs, quantity
   and address, at the lower price) and no claim; one ``INSERT … SELECT`` gives every simulated
   buyer an API token; the (token, order, line, evidence order) of each policy is written to a
   file, one claim to file per line. The broker's queue is purged, so it holds only this run's
   messages.
2. gunicorn serves ``config.wsgi`` on a free loopback port, DEBUG off (as in production), with
   4 sync workers: on 2 cores they beat gthread (measured, 15 s closed loops: sync 4 → 165–186
   claims/s; gthread 4×2 → 160; gthread 2×4 → 102, where two processes cannot use two cores
   for Python under the GIL; sync 3 → 158; sync 6 → 140). The claims throttle is *lifted* for the benchmark (``API_CLAIMS_THROTTLE_RATE=1000000/s``): it
   still counts every request in the cache (Redis with ``REDIS_URL``), only its limit is out of
   the way. Filing a claim stores it as 'submitted' and enqueues its adjudication after commit
   on ``CELERY_BROKER_URL`` (Redis in scripts/bench.sh); no Celery worker runs, so what is
   measured is the filing itself. The messages are counted (one per claim) and purged afterwards.
3. ``load`` (a separate process, asyncio, no Django): warm-up, then (a) a closed loop,
   ``--concurrency`` requests in flight as fast as the server answers → peak claims/s; (b) an
   open loop at half that rate → latency, measured from each request's *scheduled* send time
   (so a stalled server cannot hide its queue: no coordinated omission). Every request files a
   claim on a different policy; any answer but 201 — or a transport error — is an error.
   (c) the floor: the same closed loop on GET /api/v1/me/ (token authentication and one query),
   what this stack costs per request before any claim work.
   The client needs CPU too, on the same two cores: its CPU seconds (from wait4) are reported
   next to gunicorn's and PostgreSQL's (from /proc). By default it is a minimal HTTP/1.1 client
   on asyncio streams (``--client raw``), which costs a fraction of httpx's CPU per request;
   ``--client httpx`` uses httpx's AsyncClient instead.
4. ``verify`` (Django): the claims in the database and the messages on the broker match the 201s.
5. pgbench TPC-B on the same server, gunicorn stopped: ``pgbench -i -s 10`` into a database of
   its own (created and dropped here), then ``-c 8 -j 2 -T 20``. ratio = peak claims/s ÷ TPS.
6. scenario 4's part, bench/pages.py (skipped by a version without the web pages).

``--profile FILE`` also samples gunicorn's Python on CPU with py-spy during the peak and reports
where it went (it costs the peak some 10%). ``BENCH_HTTP_<OPTION>`` variables set the options
(e.g. ``BENCH_HTTP_SECONDS=10``) when bench/run.py runs the scenario.
"""

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
CLAIMS_PATH = "/api/v1/claims/"
ME_PATH = "/api/v1/me/"
GOAL_RATIO, GOAL_P99_MS = 0.35, 100.0

DEFAULTS = {
    "policies": 60_000,  # claims the load can file: enough for ~1,000 claims/s over both phases
    "workers": 4,
    "worker_class": "sync",
    "threads": 1,
    # Closed loop: requests in flight; 0 = one per worker thread (workers × threads). A sync
    # worker serves one request at a time, so more only wait in the listen backlog (measured with
    # 4 sync workers: 4 in flight → 168/s, 8 → 165/s, 16 → 141/s).
    "concurrency": 0,
    "max_in_flight": 64,  # open loop: beyond this the client waits (and the wait counts as latency)
    "warmup_seconds": 3.0,
    "seconds": 20.0,
    "floor_seconds": 10.0,  # the same stack answering GET /api/v1/me/ (0: skip)
    "pgbench_scale": 10,
    "pgbench_clients": 8,
    "pgbench_threads": 2,
    "pgbench_seconds": 20,
    "client": "raw",  # the load client: "raw" (asyncio streams) or "httpx"
    "profile": "",  # a file: py-spy samples gunicorn's Python on CPU during the peak (skews it a little)
    "pages": 1,  # then scenario 4's part (bench/pages.py); 0 skips it
}


# --- statistics ------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of an ascending list (q in 0–100): a value that was seen."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n·q/100), at least the first
    return ordered[int(min(rank, len(ordered))) - 1]


def latency_summary(seconds: list[float]) -> dict:
    """p50/p90/p99/max/mean of latencies given in seconds, in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0}
    ms = [
        round(v * 1000, 2)
        for v in (percentile(ordered, 50), percentile(ordered, 90), percentile(ordered, 99))
    ]
    return {
        "count": len(ordered),
        "p50_ms": ms[0],
        "p90_ms": ms[1],
        "p99_ms": ms[2],
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2),
    }


# --- data (Django, in the prepare and verify steps) ------------------------------------------


def tokens_create(*, campaign: int) -> int:
    """An API token for every buyer of the campaign's policies who has none, in one statement
    (random 40-hex keys, as DRF makes them). Benchmark data, not product code."""
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from insurance.models import Coverage, Policy
    from orders.models import CampaignItem

    if connection.vendor == "postgresql":
        key = "substr(md5(random()::text || b.buyer_id) || md5(b.buyer_id || random()::text), 1, 40)"
    else:
        key = "lower(hex(randomblob(20)))"
    token, policy = Token._meta.db_table, Policy._meta.db_table
    coverage_ids = (
        f"SELECT c.id FROM {Coverage._meta.db_table} c "
        f"JOIN {CampaignItem._meta.db_table} i ON i.id = c.campaign_item_id WHERE i.campaign_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {token} (key, user_id, created) SELECT {key}, b.buyer_id, %s "
            f"FROM (SELECT DISTINCT buyer_id FROM {policy} WHERE coverage_id IN ({coverage_ids})) b "
            f"WHERE NOT EXISTS (SELECT 1 FROM {token} t WHERE t.user_id = b.buyer_id)",
            [connection.ops.adapt_datetimefield_value(timezone.now()), campaign],
        )
        return cursor.rowcount


def targets_write(*, campaign: int, prefix: str, evidence_prefix: str, path: Path) -> int:
    """One line per claimable policy of the campaign that has an evidence order and no claim:
    ``token  order-number  line-id  evidence-number`` (tab-separated), in the order they were
    simulated, so that consecutive requests come from different buyers."""
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


def targets_read(path: Path) -> list[tuple[str, str, int, str]]:
    targets = []
    with path.open() as lines:
        for row in lines:
            key, order, line, evidence = row.rstrip("\n").split("\t")
            targets.append((key, order, int(line), evidence))
    return targets


def claim_request(target: tuple[str, str, int, str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of POST /api/v1/claims/ for one target (shared with the tests)."""
    key, order, line, evidence = target
    body = json.dumps({"order": order, "line": line, "evidence_order_number": evidence}).encode()
    return body, {"Authorization": f"Token {key}", "Content-Type": "application/json"}


def _broker_purge() -> int:
    """Messages dropped from the broker's default queue (the benchmark's broker, no worker)."""
    from config.celery import app

    return app.control.purge() or 0


def prepare(*, policies: int, targets: str) -> dict:
    from bench import steps

    started = time.perf_counter()
    purged_before = _broker_purge()
    simulated = steps.simulate(orders=policies, price_drop_share=1, claims_share=1, evidence_only=True)
    tokens = tokens_create(campaign=simulated["campaign"])
    written = targets_write(
        campaign=simulated["campaign"],
        prefix=simulated["prefix"],
        evidence_prefix=simulated["evidence_prefix"],
        path=Path(targets),
    )
    return {
        **simulated,
        "tokens": tokens,
        "targets": written,
        "purged_before": purged_before,
        "seconds": time.perf_counter() - started,
    }


def verify(*, campaign: int) -> dict:
    """What the load left: the campaign's claims by state, and the messages it enqueued (purged)."""
    from django.db.models import Count

    from claims.models import Claim

    states = dict(
        Claim.objects.filter(policy__order_line__order__campaign_id=campaign)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {"claims": sum(states.values()), "states": states, "enqueued": _broker_purge()}


# --- load generator (its own process; asyncio + httpx, no Django) ------------------------------


class Tally:
    """Statuses, latencies and a few error samples of one phase."""

    def __init__(self, ok_status: str = "201") -> None:
        self.ok_status = ok_status
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []  # from the scheduled send time (open loop) or the send
        self.service: list[float] = []  # from the actual send
        self.samples: list[str] = []

    def add(self, status: str, latency: float, service: float, detail: str = "") -> None:
        self.statuses[status] += 1
        self.latencies.append(latency)
        self.service.append(service)
        if status != self.ok_status and len(self.samples) < 5:
            self.samples.append(f"{status}: {detail[:300]}")

    @property
    def ok(self) -> int:
        return self.statuses[self.ok_status]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok


class ClientError(Exception):
    """A request that got no HTTP answer (refused, reset, timed out)."""


class HttpxClient:
    """httpx's AsyncClient (connection pool, keep-alive when the server allows it)."""

    def __init__(self, base_url: str, *, connections: int, transport: Any = None) -> None:
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=30, trust_env=False, transport=transport
        )

    async def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        import httpx

        try:
            response = await self.client.request(method, path, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


class RawClient:
    """A minimal HTTP/1.1 client on asyncio streams, for the load: a fraction of httpx's CPU per
    request, which matters when the client shares two cores with the server and the database.
    Keeps a connection alive unless the server says ``Connection: close`` (gunicorn's sync
    workers do); a kept connection the server dropped meanwhile is retried once on a new one."""

    def __init__(self, base_url: str, *, timeout: float = 30) -> None:
        url = urlparse(base_url)
        self.host, self.port, self.timeout = url.hostname, url.port or 80, timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in (1, 2):
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await self._connect()
            try:
                return await asyncio.wait_for(self._exchange(reader, writer, request), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
                writer.close()
                if reused and attempt == 1:
                    continue  # the server had closed the kept connection: it never saw this request
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
            except (TimeoutError, OSError, ValueError) as exc:
                writer.close()
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ClientError(f"connect: {type(exc).__name__}: {exc}") from exc

    async def _exchange(self, reader, writer, request: bytes) -> tuple[int, bytes]:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            raise EOFError("connection closed before the answer")
        status = int(status_line.split(b" ", 2)[1])
        length, keep = 0, not status_line.startswith(b"HTTP/1.0")
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep = value.strip().lower() != b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not expected from this API")
        payload = await reader.readexactly(length)
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status, payload

    async def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


# What a load can do with a target: file its claim (the scenario), only ask who the buyer is
# (GET /api/v1/me/: token authentication and one query — the floor of the same stack), or get a
# web page with a session cookie (scenario 4, bench/pages.py). Each with the status it expects.
ACTIONS = {"claim": "201", "me": "200", "page": "200"}


async def _send(
    client: Any, action: str, target: tuple, tally: Tally, scheduled: float | None = None
) -> None:
    if action == "claim":
        method, path, (body, headers) = "POST", CLAIMS_PATH, claim_request(target)
    elif action == "me":
        method, path, body, headers = "GET", ME_PATH, b"", {"Authorization": f"Token {target[0]}"}
    else:  # a page: (cookie, path)
        method, path, body, headers = "GET", target[1], b"", {"Cookie": target[0]}
    sent = time.perf_counter()
    try:
        code, payload = await client.send(method, path, body, headers)
        status, detail = str(code), ("" if str(code) == tally.ok_status else payload.decode(errors="replace"))
    except ClientError as exc:
        status, detail = "no answer", str(exc)
    done = time.perf_counter()
    tally.add(status, done - (sent if scheduled is None else scheduled), done - sent, detail)


async def closed_loop(
    client: Any, targets: list, *, concurrency: int, seconds: float, action: str = "claim"
) -> dict:
    """``concurrency`` requests in flight, each sent as soon as the previous one is answered.
    Claims use each target once; the other actions go round the targets."""
    tally = Tally(ACTIONS[action])
    cursor = iter(targets) if action == "claim" else itertools.cycle(targets)
    started = time.perf_counter()
    deadline = started + seconds
    exhausted = False

    async def user() -> None:
        nonlocal exhausted
        while time.perf_counter() < deadline:
            target = next(cursor, None)
            if target is None:
                exhausted = True
                return
            await _send(client, action, target, tally)

    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return _phase("closed", tally, elapsed, exhausted=exhausted, concurrency=concurrency, action=action)


async def open_loop(client: Any, targets: list, *, rate: float, seconds: float, max_in_flight: int) -> dict:
    """A claim every 1/rate seconds whatever the answers; latency counts from the scheduled
    time, so time spent waiting for a free connection (beyond ``max_in_flight``) counts too."""
    tally, gate = Tally(), asyncio.Semaphore(max_in_flight)
    total = min(len(targets), int(rate * seconds))
    started = time.perf_counter() + 0.05
    tasks = []

    async def one(target: tuple, scheduled: float) -> None:
        async with gate:
            await _send(client, "claim", target, tally, scheduled)

    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(targets[i], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return _phase("open", tally, elapsed, exhausted=total < int(rate * seconds), offered_rate=round(rate, 1))


def _phase(mode: str, tally: Tally, elapsed: float, **extra: Any) -> dict:
    return {
        "mode": mode,
        "seconds": round(elapsed, 3),
        "sent": sum(tally.statuses.values()),
        "ok": tally.ok,
        "errors": tally.errors,
        "statuses": dict(tally.statuses),
        "error_samples": tally.samples,
        "claims_per_second": round(tally.ok / elapsed, 1) if elapsed else 0.0,  # answers/s for "me"
        "latency": latency_summary(tally.latencies),
        "service_time": latency_summary(tally.service),
        **extra,
    }


def load(
    *,
    base_url: str,
    targets: str,
    offset: int,
    mode: str,
    seconds: float,
    concurrency: int = 8,
    rate: float = 0.0,
    max_in_flight: int = 64,
    client: str = "raw",
    action: str = "claim",
) -> dict:
    if action == "page":
        todo = [tuple(row.split("\t")) for row in Path(targets).read_text().splitlines() if row]
    else:
        todo = targets_read(Path(targets))[offset:]
    connections = concurrency if mode == "closed" else max_in_flight

    async def main() -> dict:
        session = RawClient(base_url) if client == "raw" else HttpxClient(base_url, connections=connections)
        try:
            if mode == "closed":
                return await closed_loop(
                    session, todo, concurrency=concurrency, seconds=seconds, action=action
                )
            return await open_loop(session, todo, rate=rate, seconds=seconds, max_in_flight=max_in_flight)
        finally:
            await session.close()

    result = asyncio.run(main())
    result["consumed"] = result["sent"] if action == "claim" else 0
    result["client"] = client
    return result


# --- processes: steps, gunicorn, CPU accounting, pgbench ---------------------------------------


def _step(name: str, module: str = "bench.http", **options: Any) -> dict:
    """``python -m MODULE --step NAME JSON`` in its own process; its CPU seconds from wait4."""
    argv = [sys.executable, "-m", module, "--step", name, json.dumps(options)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, env=os.environ.copy())
    started = time.perf_counter()
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench step {name} failed")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving config.wsgi on a free loopback port, for the benchmark only."""

    def __init__(self, *, workers: int, worker_class: str, threads: int, log: Path) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.argv = [
            _tool("gunicorn"),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--backlog=2048",
            "--timeout=120",
            "--graceful-timeout=10",
            "--log-level=warning",
        ]
        self.env = {
            **os.environ,
            "DJANGO_DEBUG": "false",  # as in production: DEBUG keeps every query in memory
            "API_CLAIMS_THROTTLE_RATE": "1000000/s",  # lifted for the benchmark (still counted)
            "PYTHONUNBUFFERED": "1",
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        import httpx

        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + ME_PATH, timeout=2, trust_env=False).status_code == 401:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[str, int, float]]:
    """pid → (command, parent pid, CPU seconds) from /proc (Linux; empty elsewhere). A process's
    CPU includes that of its children it has reaped (cutime, cstime): PostgreSQL backends and
    gunicorn workers that exited during a phase still count, in their postmaster or master."""
    table = {}
    for stat in glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        cpu = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        table[int(stat.split("/")[2])] = (comm, int(fields[1]), cpu / _TICK)
    return table


def _machine_busy() -> float:
    """CPU seconds spent busy on all cores since boot (/proc/stat)."""
    try:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)  # idle + iowait
    return (sum(cpu[:8]) - idle) / _TICK


def cpu_snapshot(server_pid: int | None = None) -> dict[str, float]:
    table = _proc_table()
    server = {server_pid} | {pid for pid, (_c, ppid, _s) in table.items() if ppid == server_pid}
    server.discard(None)
    return {
        "gunicorn": sum(table[pid][2] for pid in server if pid in table),
        "postgres": sum(s for comm, _p, s in table.values() if comm == "postgres"),
        "machine": _machine_busy(),
    }


def cpu_cores(before: dict, after: dict, seconds: float, client_cpu: float) -> dict[str, float]:
    """Cores used on average over the phase, by gunicorn, PostgreSQL, the load client and in all
    ("other" is the rest of "machine": the kernel's network work and anything else running)."""
    used = {k: (after[k] - before[k]) / seconds for k in before}
    used["client"] = client_cpu / seconds
    used["other"] = max(0.0, used["machine"] - used["gunicorn"] - used["postgres"] - used["client"])
    return {k: round(v, 2) for k, v in used.items()}


def background_cores(seconds: float = 2.0) -> float:
    """Cores busy with something else before the load starts (other processes on the machine)."""
    before = _machine_busy()
    time.sleep(seconds)
    return round((_machine_busy() - before) / seconds, 2)


def _tool(name: str) -> str:
    local = ROOT / ".venv" / "bin" / name
    return str(local) if local.exists() else shutil.which(name) or name


def profile_start(pid: int, path: str, seconds: float) -> subprocess.Popen:
    """py-spy on gunicorn and its workers: only threads holding the GIL (Python on CPU), without
    pausing them, as collapsed stacks (one "frame;frame;… count" line per stack)."""
    argv = [_tool("py-spy"), "record", "--pid", str(pid), "--subprocesses", "--gil", "--nonblocking"]
    argv += ["--rate", "100", "--format", "raw", "-o", path, "--duration", str(int(seconds) + 2)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(path: str, top: int = 30) -> dict[str, list[str]]:
    """Where gunicorn's Python time went, from py-spy's collapsed stacks: by package of the
    function on CPU ("self"), and the functions in the most samples below the request's common
    trunk (gunicorn → middleware → view: frames in nearly every sample), e.g.
    "32.9% SQLCompiler.as_sql (django/db/models/sql/compiler.py)"."""
    total, inclusive, by_package = 0, Counter(), Counter()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, names = int(count), []
        for frame in stack.split(";"):
            if frame.startswith("process ") or " (" not in frame:
                continue
            function, where = frame.split(" (", 1)
            names.append(f"{function} ({where.rsplit(':', 1)[0].split('site-packages/')[-1]})")
        if not names:
            continue
        total += n
        for name in set(names):
            inclusive[name] += n
        where = names[-1].rsplit(" (", 1)[1].rstrip(")")
        by_package[where.split("/")[0].removesuffix(".py")] += n
    if not total:
        return {"by_package": [], "functions": []}
    trunk = 0.85 * max(inclusive.values())
    functions = [(name, n) for name, n in inclusive.most_common() if n < trunk][:top]
    return {
        "by_package": [f"{n / total * 100:.1f}% {name}" for name, n in by_package.most_common(12)],
        "functions": [f"{n / total * 100:.1f}% {name}" for name, n in functions],
    }


def _pg_env() -> tuple[dict, str]:
    url = urlparse(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "PGHOST": url.hostname or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": unquote(url.username or ""),
        "PGPASSWORD": unquote(url.password or ""),
    }
    return env, url.path.lstrip("/")


def _pgbench_binary() -> str:
    found = sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which("pgbench") or "pgbench"


def parse_pgbench(output: str) -> dict:
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.MULTILINE)
    if tps is None:
        raise ValueError(f"no tps in pgbench's output:\n{output}")
    return {"tps": float(tps[1]), "latency_average_ms": float(latency[1]) if latency else None}


def pgbench(*, scale: int, clients: int, threads: int, seconds: int) -> dict:
    """TPC-B on the benchmark's server, in a database of its own that is dropped afterwards."""
    env, _bench_db = _pg_env()
    database = os.environ.get("BENCH_PGBENCH_DATABASE", "baojia_pgbench")
    binary = _pgbench_binary()

    def admin(sql: str) -> None:
        quiet = {**env, "PGOPTIONS": "-c client_min_messages=warning"}
        subprocess.run(["psql", "-X", "-q", "-d", _bench_db, "-c", sql], env=quiet, check=True)

    admin(f'DROP DATABASE IF EXISTS "{database}"')
    admin(f'CREATE DATABASE "{database}"')
    try:
        subprocess.run(
            [binary, "-i", "-q", "-s", str(scale), database], env=env, check=True, capture_output=True
        )
        started, before = time.perf_counter(), cpu_snapshot()
        out = subprocess.run(
            [binary, "-c", str(clients), "-j", str(threads), "-T", str(seconds), database],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed, after = time.perf_counter() - started, cpu_snapshot()
        result = parse_pgbench(out.stdout)
        result["seconds"] = round(elapsed, 2)
        cores = {k: (after[k] - before[k]) / elapsed for k in ("postgres", "machine")}
        result["cpu_cores"] = {k: round(v, 2) for k, v in cores.items()}
        result["cpu_ms_per_transaction"] = {k: round(v / result["tps"] * 1000, 3) for k, v in cores.items()}
        return {**result, "scale": scale, "clients": clients, "threads": threads, "duration": seconds}
    finally:
        admin(f'DROP DATABASE IF EXISTS "{database}"')


# --- the scenario ------------------------------------------------------------------------------


def options_from_env() -> dict:
    """DEFAULTS, overridden by BENCH_HTTP_<NAME> environment variables (e.g. BENCH_HTTP_WORKERS)."""
    options = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = os.environ.get(f"BENCH_HTTP_{name.upper()}")
        if raw:
            options[name] = type(default)(raw)
    return options


def _print(message: str) -> None:
    print(f"  {message}", flush=True)


def _server_errors(log: Path) -> list[str]:
    """Lines of gunicorn's log that tell of an error (a traceback, a worker timeout)."""
    if not log.exists():
        return []
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line]


def _load_phase(server: Gunicorn, *, label: str = "", **options: Any) -> dict:
    before = cpu_snapshot(server.process.pid)
    result = _step("load", base_url=server.base_url, **options)
    after = cpu_snapshot(server.process.pid)
    result["cpu_cores"] = cpu_cores(before, after, result["process_seconds"], result["cpu_seconds"])
    result["loadavg_after"] = os.getloadavg()[0]
    latency = result["latency"]
    label = label or options["mode"]
    unit = "claims/s" if options.get("action", "claim") == "claim" else "answers/s"
    _print(
        f"{label:6} {result['claims_per_second']:8.1f} {unit}  p50 {latency.get('p50_ms', 0):7.1f} ms"
        f"  p99 {latency.get('p99_ms', 0):7.1f} ms  errors {result['errors']}  cores {result['cpu_cores']}"
    )
    return result


def _cpu_ms_per_request(phase: dict) -> dict[str, float]:
    """CPU milliseconds per answered request, by whom (from the phase's cores and rate)."""
    rate = phase["claims_per_second"]
    return {k: round(v / rate * 1000, 2) for k, v in phase["cpu_cores"].items()} if rate else {}


def _floor(phase: dict | None) -> dict | None:
    if phase is None:
        return None
    return {
        "what": "GET /api/v1/me/ on the same gunicorn: token authentication and one query, no claim",
        "requests_per_second": phase["claims_per_second"],
        "p50_ms": phase["latency"].get("p50_ms"),
        "p99_ms": phase["latency"].get("p99_ms"),
        "errors": phase["errors"],
        "cpu_ms_per_request": _cpu_ms_per_request(phase),
    }


def run(**overrides: Any) -> list[dict]:
    options = {**options_from_env(), **overrides}
    options["concurrency"] = options["concurrency"] or options["workers"] * options["threads"]
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        print("scenario 3: skipped (needs PostgreSQL in DATABASE_URL, and pgbench)", flush=True)
        return []
    server_kind = f"{options['workers']} {options['worker_class']} workers" + (
        f" × {options['threads']} threads" if options["worker_class"] == "gthread" else ""
    )
    print(f"scenario 3: file claims over HTTP (gunicorn, {server_kind}) and pgbench", flush=True)
    with tempfile.TemporaryDirectory(prefix="baojia-bench-http-") as tmp:
        targets = str(Path(tmp) / "targets.tsv")
        prepared = _step("prepare", policies=options["policies"], targets=targets)
        _print(
            f"prepare: {prepared['targets']:,} claimable policies with evidence, {prepared['tokens']:,} tokens"
        )
        phases = {}
        offset = 0
        profile: dict[str, list[str]] = {}
        idle = background_cores()
        _print(f"background load before the run: {idle} cores busy")
        log = Path(tmp) / "gunicorn.log"
        try:
            with Gunicorn(
                workers=options["workers"],
                worker_class=options["worker_class"],
                threads=options["threads"],
                log=log,
            ) as server:
                common = {
                    "targets": targets,
                    "max_in_flight": options["max_in_flight"],
                    "client": options["client"],
                }
                for name, mode, seconds in (
                    ("warmup", "closed", options["warmup_seconds"]),
                    ("peak", "closed", options["seconds"]),
                ):
                    spy = None
                    if name == "peak" and options["profile"]:
                        spy = profile_start(server.process.pid, options["profile"], seconds)
                    phases[name] = _load_phase(
                        server,
                        mode=mode,
                        offset=offset,
                        seconds=seconds,
                        concurrency=options["concurrency"],
                        **common,
                    )
                    offset += phases[name]["consumed"]
                    if spy is not None:
                        spy.wait()
                        profile = profile_summary(options["profile"])
                        _print(f"profile of the peak (Python on CPU): {options['profile']}")
                        _print("  self time by package: " + ", ".join(profile["by_package"][:8]))
                        for line in profile["functions"][:15]:
                            _print(f"  {line}")
                rate = phases["peak"]["claims_per_second"] / 2
                phases["half"] = _load_phase(
                    server, mode="open", offset=offset, seconds=options["seconds"], rate=rate, **common
                )
                offset += phases["half"]["consumed"]
                if options["floor_seconds"]:
                    phases["floor"] = _load_phase(
                        server,
                        mode="closed",
                        offset=0,
                        seconds=options["floor_seconds"],
                        concurrency=options["concurrency"],
                        action="me",
                        label="floor",
                        **common,
                    )
        finally:
            errors_logged = _server_errors(log)
        checked = _step("verify", campaign=prepared["campaign"])
    _print(f"verify: {checked['claims']:,} claims in the database, {checked['enqueued']:,} messages enqueued")
    bench = pgbench(
        scale=options["pgbench_scale"],
        clients=options["pgbench_clients"],
        threads=options["pgbench_threads"],
        seconds=options["pgbench_seconds"],
    )
    _print(f"pgbench TPC-B: {bench['tps']:.0f} TPS")

    claiming = [phases[name] for name in ("warmup", "peak", "half")]
    ok = sum(p["ok"] for p in claiming)
    errors = sum(p["errors"] for p in claiming)
    peak, half = phases["peak"], phases["half"]
    ratio = peak["claims_per_second"] / bench["tps"]
    consistent = checked["claims"] == ok and checked["enqueued"] == ok
    exhausted = any(p.get("exhausted") for p in (peak, half))
    figures = {
        "claims_per_second": peak["claims_per_second"],
        "peak_p50_ms": peak["latency"].get("p50_ms"),
        "peak_p99_ms": peak["latency"].get("p99_ms"),
        "offered_rate": half["offered_rate"],
        "achieved_rate": half["claims_per_second"],
        "p50_ms": half["latency"].get("p50_ms"),
        "p99_ms": half["latency"].get("p99_ms"),
        "errors": errors,
        "claims_filed": ok,
        "claims_in_database": checked["claims"],
        "adjudications_enqueued": checked["enqueued"],
        "server": server_kind,
        "closed_loop_concurrency": options["concurrency"],
        "background_cores_before": idle,
        "cpu_cores_at_peak": peak["cpu_cores"],
        "cpu_cores_at_half": half["cpu_cores"],
        "cpu_ms_per_claim_at_peak": _cpu_ms_per_request(peak),
        "client_cpu_seconds": {name: p["cpu_seconds"] for name, p in phases.items()},
        "floor": _floor(phases.get("floor")),
        "phases": phases,
        "prepared": {
            k: prepared[k] for k in ("campaign", "orders", "evidence_orders", "tokens", "targets", "seconds")
        },
        "server_errors_logged": errors_logged[:5],
        "profile": profile,
        "ran_out_of_policies": exhausted,
    }
    met = (
        ratio >= GOAL_RATIO
        and half["latency"].get("p99_ms", float("inf")) <= GOAL_P99_MS
        and errors == 0
        and consistent
        and not exhausted
    )
    scenarios = [
        {
            "name": "file claims over HTTP (gunicorn): claims/s ÷ pgbench TPC-B TPS",
            "figures": figures,
            "baseline": {
                "what": f"pgbench TPC-B -s {bench['scale']} -c {bench['clients']} -j {bench['threads']} "
                f"-T {bench['duration']}, same server, same run",
                **bench,
            },
            "ratio": round(ratio, 2),
            "goal": f"ratio ≥ {GOAL_RATIO}; p99 ≤ {GOAL_P99_MS:.0f} ms at ½ peak; 0 errors",
            "met": met,
        }
    ]
    if options["pages"]:
        from bench import pages

        scenarios += pages.run(workers=options["workers"])
    return scenarios


STEPS = {"prepare": prepare, "verify": verify, "load": load}
DJANGO_STEPS = {"prepare", "verify"}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("options", nargs="?", default="{}", help=argparse.SUPPRESS)
    for name, default in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=None)
    args = parser.parse_args(argv)
    if args.step:
        if args.step in DJANGO_STEPS:
            from bench.steps import setup

            setup()
        print(json.dumps(STEPS[args.step](**json.loads(args.options)), default=str))
        return
    overrides = {name: getattr(args, name) for name in DEFAULTS if getattr(args, name) is not None}
    for result in run(**overrides):
        figures = {k: v for k, v in result["figures"].items() if k not in ("phases", "prepared")}
        print(json.dumps({**result, "figures": figures}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
