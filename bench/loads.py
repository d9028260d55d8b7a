"""The load: a closed loop (N users, each sending as soon as the last answer came) and an open
loop (a fixed rate, latency counted from each request's *scheduled* time, so a stalled server
cannot hide its queue), with statuses, latencies and a few error samples.

``load`` is a step run in a process of its own without Django (``load_phase`` starts it and
adds who used the CPU meanwhile); the loops take any client of bench/clients.py.

Targets are files of tab-separated rows. What a request does with a row is its *action*:
- ``claim``: ``token, order, line, evidence`` → POST /api/v1/claims/ (each row once; 201)
- ``me``: ``token, …`` → GET /api/v1/me/ (token authentication and one query; 200)
- ``page``: ``cookie, path`` → GET path with a session cookie (200)
"""

import asyncio
import itertools
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.clients import ClientError, HttpxClient, RawClient
from bench.cpu import cpu_cores, cpu_snapshot
from bench.proc import run_step

CLAIMS_PATH = "/api/v1/claims/"
ME_PATH = "/api/v1/me/"
ACTIONS = {"claim": "201", "me": "200", "page": "200"}  # the status each action expects


# --- statistics ------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of an ascending list (q in 0–100): a value that was seen."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n·q/100), at least the first
    return ordered[int(min(rank, len(ordered))) - 1]


def latency_summary(seconds: list[float]) -> dict:
    """p50/p90/p95/p99/max/mean of latencies given in seconds, in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0}
    summary: dict[str, float] = {"count": len(ordered)}
    for q in (50, 90, 95, 99):
        summary[f"p{q}_ms"] = round(percentile(ordered, q) * 1000, 2)
    summary["max_ms"] = round(ordered[-1] * 1000, 2)
    summary["mean_ms"] = round(sum(ordered) / len(ordered) * 1000, 2)
    return summary


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


# --- requests --------------------------------------------------------------------------------


def targets_read(path: Path) -> list[tuple[str, ...]]:
    return [tuple(row.split("\t")) for row in path.read_text().splitlines() if row]


def claim_request(target: tuple) -> tuple[bytes, dict[str, str]]:
    """The body and headers of POST /api/v1/claims/ for one claim target (shared with the tests)."""
    key, order, line, evidence = target
    body = json.dumps({"order": order, "line": int(line), "evidence_order_number": evidence}).encode()
    return body, {"Authorization": f"Token {key}", "Content-Type": "application/json"}


def _request(action: str, target: tuple) -> tuple[str, str, bytes, dict[str, str]]:
    if action == "claim":
        return ("POST", CLAIMS_PATH, *claim_request(target))
    if action == "me":
        return "GET", ME_PATH, b"", {"Authorization": f"Token {target[0]}"}
    return "GET", target[1], b"", {"Cookie": target[0]}


async def _send(
    client: Any, action: str, target: tuple, tally: Tally, scheduled: float | None = None
) -> None:
    method, path, body, headers = _request(action, target)
    sent = time.perf_counter()
    try:
        code, payload = await client.send(method, path, body, headers)
        status, detail = str(code), ("" if str(code) == tally.ok_status else payload.decode(errors="replace"))
    except ClientError as exc:
        status, detail = "no answer", str(exc)
    done = time.perf_counter()
    tally.add(status, done - (sent if scheduled is None else scheduled), done - sent, detail)


# --- loops -----------------------------------------------------------------------------------


def _phase(mode: str, tally: Tally, elapsed: float, **extra: Any) -> dict:
    return {
        "mode": mode,
        "seconds": round(elapsed, 3),
        "sent": sum(tally.statuses.values()),
        "ok": tally.ok,
        "errors": tally.errors,
        "statuses": dict(tally.statuses),
        "error_samples": tally.samples,
        "per_second": round(tally.ok / elapsed, 1) if elapsed else 0.0,
        "latency": latency_summary(tally.latencies),
        "service_time": latency_summary(tally.service),
        **extra,
    }


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


def load(
    *,
    base_url: str,
    targets: str,
    mode: str,
    seconds: float,
    offset: int = 0,
    concurrency: int = 8,
    rate: float = 0.0,
    max_in_flight: int = 64,
    client: str = "raw",
    action: str = "claim",
) -> dict:
    """The step: one phase against ``base_url`` with the targets of a file (from ``offset``)."""
    if mode not in ("closed", "open") or action not in ACTIONS or client not in ("raw", "httpx"):
        raise ValueError(f"load: mode {mode!r}, action {action!r}, client {client!r}")
    todo = targets_read(Path(targets))[offset:]

    async def main() -> dict:
        connections = concurrency if mode == "closed" else max_in_flight
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


def load_phase(server: Any, *, label: str, **options: Any) -> dict:
    """Run ``load(**options)`` against the server in its own process; add the cores each party
    used meanwhile (``cpu_cores``) and print a line."""
    before = cpu_snapshot(server.process.pid)
    result = run_step("bench.loads:load", {"base_url": server.base_url, **options}, django=False)
    after = cpu_snapshot(server.process.pid)
    result["cpu_cores"] = cpu_cores(before, after, result["process_seconds"], result["cpu_seconds"])
    result["loadavg_after"] = os.getloadavg()[0]
    latency = result["latency"]
    print(
        f"  {label:28} {result['per_second']:8.1f}/s  p50 {latency.get('p50_ms', 0):8.1f} ms"
        f"  p95 {latency.get('p95_ms', 0):8.1f} ms  p99 {latency.get('p99_ms', 0):8.1f} ms"
        f"  errors {result['errors']}",
        flush=True,
    )
    return result
