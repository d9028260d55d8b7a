"""The load (bench/loads.py, bench/clients.py) and its accounting, without a server: the loops
against a fake transport and a tiny asyncio server, the statistics, py-spy's summary, pgbench's
output."""

import asyncio
import json
import socket
import threading

import httpx
import pytest

from bench import loads
from bench.clients import HttpxClient, RawClient
from bench.cpu import cpu_cores, cpu_ms_per_request
from bench.pgbench import parse_pgbench
from bench.pyspy_profile import profile_summary


def run_alone(coroutine):
    """Run a coroutine on a thread of its own: Playwright's sync API (the e2e tests) may leave an
    event loop running on this xdist worker's main thread, where asyncio.run() is refused."""
    results: list = []
    errors: list = []

    def target() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]
    return results[0]


def test_percentiles_are_nearest_rank():
    values = [i / 1000 for i in range(1, 101)]  # 1 … 100 ms
    assert loads.percentile(values, 50) == 0.05
    assert loads.percentile(values, 95) == 0.095
    assert loads.percentile(values, 100) == 0.1
    assert loads.percentile([0.2], 99) == 0.2
    summary = loads.latency_summary(list(reversed(values)))
    assert (summary["count"], summary["p50_ms"], summary["p95_ms"], summary["max_ms"]) == (100, 50, 95, 100)
    assert summary["mean_ms"] == 50.5
    assert loads.latency_summary([]) == {"count": 0}


TARGETS = [(f"{i:040x}", f"S-{i}", str(i), f"E{i}") for i in range(1, 400)]


def _fake_server(refuse: set[int]):
    """A transport that answers 201, or 409 for the lines in ``refuse``; GETs of pages 200."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.headers["Cookie"] == "sessionid=abc"
            return httpx.Response(200, text="<html>")
        assert request.url.path == loads.CLAIMS_PATH
        assert request.headers["Authorization"].startswith("Token ")
        line = json.loads(request.content)["line"]
        if line in refuse:
            return httpx.Response(409, json={"code": "already_claimed", "detail": "…"})
        return httpx.Response(201, json={"number": f"LP{line}"})

    return httpx.MockTransport(answer)


def _run(loop_coroutine, refuse=frozenset()):
    async def main():
        client = HttpxClient("http://test", connections=8, transport=_fake_server(set(refuse)))
        try:
            return await loop_coroutine(client)
        finally:
            await client.close()

    return run_alone(main())


def test_the_closed_loop_counts_every_answer_and_stops_when_out_of_claims():
    result = _run(
        lambda client: loads.closed_loop(client, TARGETS[:50], concurrency=4, seconds=5), refuse={7}
    )
    assert result["exhausted"] is True
    assert (result["sent"], result["ok"], result["errors"]) == (50, 49, 1)
    assert result["statuses"] == {"201": 49, "409": 1}
    assert result["error_samples"][0].startswith("409: ")
    assert result["latency"]["count"] == 50


def test_pages_go_round_their_targets_until_the_time_is_up():
    pages = [("sessionid=abc", "/seller/")]
    result = _run(lambda client: loads.closed_loop(client, pages, concurrency=2, seconds=0.3, action="page"))
    assert result["exhausted"] is False
    assert result["ok"] > 2 and result["errors"] == 0


def test_the_open_loop_offers_a_fixed_rate_and_times_from_the_schedule():
    result = _run(lambda client: loads.open_loop(client, TARGETS, rate=200, seconds=0.5, max_in_flight=8))
    assert (result["sent"], result["ok"], result["errors"]) == (100, 100, 0)
    assert result["offered_rate"] == 200
    assert 0.45 <= result["seconds"] < 2
    assert result["latency"]["p99_ms"] >= result["service_time"]["p99_ms"] - 0.01


def test_the_load_step_refuses_an_unknown_action(tmp_path):
    (tmp_path / "t").write_text("a\tb\n")
    with pytest.raises(ValueError, match="action 'delete'"):
        loads.load(
            base_url="http://x", targets=str(tmp_path / "t"), mode="closed", seconds=1, action="delete"
        )


@pytest.mark.parametrize("keep_alive", [True, False])
def test_the_raw_client_speaks_http_1_1_with_and_without_keep_alive(keep_alive):
    """Against a tiny asyncio server: 201s, a 409 with its body, keep-alive or Connection: close,
    and a kept connection the server dropped is retried on a new one."""
    seen = {"connections": 0, "requests": 0}

    async def serve(reader, writer):
        seen["connections"] += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
            )
            line = json.loads(await reader.readexactly(length))["line"]
            seen["requests"] += 1
            status, body = (
                (b"409 Conflict", b'{"code": "already_claimed"}') if line == 3 else (b"201 Created", b"{}")
            )
            closing = not keep_alive or seen["requests"] == 5  # the 5th answer also drops the connection
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + (b"\r\nConnection: close" if not keep_alive else b"")
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
            if closing:
                writer.close()
                return

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = RawClient(f"http://127.0.0.1:{port}")
        try:
            return await loads.closed_loop(client, TARGETS[:10], concurrency=1, seconds=5)
        finally:
            await client.close()
            server.close()

    result = run_alone(main())
    assert result["statuses"] == {"201": 9, "409": 1}
    assert result["error_samples"] == ['409: {"code": "already_claimed"}']
    assert seen["requests"] == 10
    assert seen["connections"] == (2 if keep_alive else 10)


def test_the_raw_client_reports_a_refused_connection():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed

    async def main():
        client = RawClient(f"http://127.0.0.1:{port}", timeout=2)
        return await loads.closed_loop(client, TARGETS[:2], concurrency=1, seconds=5)

    result = run_alone(main())
    assert result["statuses"] == {"no answer": 2}
    assert result["errors"] == 2


def test_cpu_is_shared_out_per_party_and_per_request():
    before = {"gunicorn": 10.0, "postgres": 5.0, "machine": 20.0}
    after = {"gunicorn": 14.0, "postgres": 7.0, "machine": 28.0}
    cores = cpu_cores(before, after, seconds=4, client_cpu=1.0)
    assert cores == {"gunicorn": 1.0, "postgres": 0.5, "machine": 2.0, "client": 0.25, "other": 0.25}
    assert cpu_ms_per_request({"per_second": 100.0, "cpu_cores": cores})["gunicorn"] == 10.0


def test_it_summarises_a_py_spy_profile(tmp_path):
    stacks = tmp_path / "profile.txt"
    trunk = 'process 1:"gunicorn";handle (gunicorn/workers/sync.py:10);view (claims/api.py:3)'
    stacks.write_text(
        f"{trunk};as_sql (/x/site-packages/django/db/compiler.py:20) 3\n"
        f"{trunk};data (rest_framework/serializers.py:5) 1\n"
    )
    assert profile_summary(str(stacks)) == {
        "by_package": ["75.0% django", "25.0% rest_framework"],
        "functions": ["75.0% as_sql (django/db/compiler.py)", "25.0% data (rest_framework/serializers.py)"],
    }


def test_it_reads_pgbench_output():
    output = (
        "transaction type: <builtin: TPC-B (sort of)>\nscaling factor: 10\nnumber of clients: 8\n"
        "latency average = 3.512 ms\ninitial connection time = 12.3 ms\n"
        "tps = 2277.804512 (without initial connection time)\n"
    )
    assert parse_pgbench(output) == {"tps": 2277.804512, "latency_average_ms": 3.512}
    with pytest.raises(ValueError):
        parse_pgbench("pgbench: error")
