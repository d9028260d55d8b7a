"""Scenario 3's pieces at a tiny size (bench/http.py), so they cannot rot: the evidence-only
simulation, the tokens and the claim list, real requests through the Django test client (not
gunicorn), the load loops against a fake transport, and the statistics."""

import asyncio
import json
import socket
import threading

import httpx
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bench import http as bench_http
from bench import steps
from claims.models import Claim, ClaimState
from insurance.models import Policy, PolicyState
from orders.models import Order, OrderState


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


@pytest.fixture
def simulated(db, tmp_path):
    result = steps.simulate(orders=40, price_drop_share=1, claims_share=1, evidence_only=True)
    result["tokens"] = bench_http.tokens_create(campaign=result["campaign"])
    path = tmp_path / "targets.tsv"
    result["written"] = bench_http.targets_write(
        campaign=result["campaign"],
        prefix=result["prefix"],
        evidence_prefix=result["evidence_prefix"],
        path=path,
    )
    result["targets"] = bench_http.targets_read(path)
    return result


def test_evidence_only_places_one_evidence_order_per_policy_and_no_claims(simulated):
    assert simulated["evidence_orders"] == 40
    assert Claim.objects.count() == 0
    assert Policy.objects.filter(state=PolicyState.CLAIMABLE).count() == 40
    evidence = Order.objects.filter(number__startswith=simulated["evidence_prefix"])
    assert evidence.count() == 40
    assert set(evidence.values_list("state", flat=True)) == {OrderState.CLOSED}
    # the claim form takes letters and digits only
    assert all(number.isalnum() for number in evidence.values_list("number", flat=True))


def test_every_buyer_gets_one_token_and_every_policy_one_target(simulated):
    buyers = set(Policy.objects.values_list("buyer_id", flat=True))
    assert simulated["tokens"] == len(buyers) == 4
    assert set(Token.objects.values_list("user_id", flat=True)) == buyers
    assert all(len(key) == 40 and int(key, 16) >= 0 for key in Token.objects.values_list("key", flat=True))
    assert bench_http.tokens_create(campaign=simulated["campaign"]) == 0  # once per buyer
    assert simulated["written"] == len(simulated["targets"]) == 40
    # consecutive targets belong to different buyers
    keys = [target[0] for target in simulated["targets"]]
    assert all(a != b for a, b in zip(keys, keys[1:], strict=False))


def test_each_target_files_a_claim_that_the_rules_approve(simulated, django_capture_on_commit_callbacks):
    client = APIClient()
    for target in simulated["targets"][:5]:
        body, headers = bench_http.claim_request(target)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                bench_http.CLAIMS_PATH,
                data=body,
                content_type=headers["Content-Type"],
                HTTP_AUTHORIZATION=headers["Authorization"],
            )
        assert response.status_code == 201, response.content
        assert response.json()["evidence_order_number"] == target[3]
    # The simulated evidence passes every check: the load files claims that would be paid.
    states = set(Claim.objects.values_list("state", flat=True))
    assert states <= {ClaimState.APPROVED, ClaimState.PAID}, Claim.objects.values_list("checks", flat=True)
    assert Claim.objects.count() == 5
    # Filing a target again is refused (one claim per policy): the load never repeats one.
    body, headers = bench_http.claim_request(simulated["targets"][0])
    again = client.post(
        bench_http.CLAIMS_PATH,
        data=body,
        content_type=headers["Content-Type"],
        HTTP_AUTHORIZATION=headers["Authorization"],
    )
    assert again.status_code == 409


def test_verify_counts_the_campaigns_claims(simulated, monkeypatch):
    monkeypatch.setattr(bench_http, "_broker_purge", lambda: 0)
    assert bench_http.verify(campaign=simulated["campaign"]) == {"claims": 0, "states": {}, "enqueued": 0}


def test_percentiles_are_nearest_rank():
    values = [i / 1000 for i in range(1, 101)]  # 1 … 100 ms
    assert bench_http.percentile(values, 50) == 0.05
    assert bench_http.percentile(values, 99) == 0.099
    assert bench_http.percentile(values, 100) == 0.1
    assert bench_http.percentile([0.2], 99) == 0.2
    summary = bench_http.latency_summary(list(reversed(values)))
    assert (summary["count"], summary["p50_ms"], summary["p99_ms"], summary["max_ms"]) == (100, 50, 99, 100)
    assert summary["mean_ms"] == 50.5
    assert bench_http.latency_summary([]) == {"count": 0}


TARGETS = [(f"{i:040x}", f"S-{i}", i, f"E{i}") for i in range(1, 400)]


def _fake_server(refuse: set[int]):
    """A transport that answers 201, or 409 for the lines in ``refuse``."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == bench_http.CLAIMS_PATH
        assert request.headers["Authorization"].startswith("Token ")
        line = json.loads(request.content)["line"]
        if line in refuse:
            return httpx.Response(409, json={"code": "already_claimed", "detail": "…"})
        return httpx.Response(201, json={"number": f"LP{line}"})

    return httpx.MockTransport(answer)


def _run(loop_coroutine, refuse=frozenset()):
    async def main():
        client = bench_http.HttpxClient("http://test", connections=8, transport=_fake_server(set(refuse)))
        try:
            return await loop_coroutine(client)
        finally:
            await client.close()

    return run_alone(main())


def test_the_closed_loop_counts_every_answer_and_stops_when_out_of_targets():
    result = _run(
        lambda client: bench_http.closed_loop(client, TARGETS[:50], concurrency=4, seconds=5), refuse={7}
    )
    assert result["exhausted"] is True
    assert (result["sent"], result["ok"], result["errors"]) == (50, 49, 1)
    assert result["statuses"] == {"201": 49, "409": 1}
    assert result["error_samples"][0].startswith("409: ")
    assert result["latency"]["count"] == 50


def test_the_open_loop_offers_a_fixed_rate_and_times_from_the_schedule():
    result = _run(
        lambda client: bench_http.open_loop(client, TARGETS, rate=200, seconds=0.5, max_in_flight=8)
    )
    assert (result["sent"], result["ok"], result["errors"]) == (100, 100, 0)
    assert result["offered_rate"] == 200
    assert 0.45 <= result["seconds"] < 2
    assert result["latency"]["p99_ms"] >= result["service_time"]["p99_ms"] - 0.01


def test_it_reads_pgbench_output():
    output = (
        "transaction type: <builtin: TPC-B (sort of)>\nscaling factor: 10\nnumber of clients: 8\n"
        "latency average = 3.512 ms\ninitial connection time = 12.3 ms\n"
        "tps = 2277.804512 (without initial connection time)\n"
    )
    assert bench_http.parse_pgbench(output) == {"tps": 2277.804512, "latency_average_ms": 3.512}
    with pytest.raises(ValueError):
        bench_http.parse_pgbench("pgbench: error")


def test_options_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_HTTP_WORKERS", "3")
    monkeypatch.setenv("BENCH_HTTP_WORKER_CLASS", "gthread")
    options = bench_http.options_from_env()
    assert (options["workers"], options["worker_class"], options["seconds"]) == (3, "gthread", 20.0)


def test_the_scenario_is_skipped_without_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.sqlite3")
    assert bench_http.run() == []


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
        client = bench_http.RawClient(f"http://127.0.0.1:{port}")
        try:
            return await bench_http.closed_loop(client, TARGETS[:10], concurrency=1, seconds=5)
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
        client = bench_http.RawClient(f"http://127.0.0.1:{port}", timeout=2)
        return await bench_http.closed_loop(client, TARGETS[:2], concurrency=1, seconds=5)

    result = run_alone(main())
    assert result["statuses"] == {"no answer": 2}
    assert result["errors"] == 2


def test_it_summarises_a_py_spy_profile(tmp_path):
    stacks = tmp_path / "profile.txt"
    trunk = 'process 1:"gunicorn";handle (gunicorn/workers/sync.py:10);view (claims/api.py:3)'
    stacks.write_text(
        f"{trunk};as_sql (/x/site-packages/django/db/compiler.py:20) 3\n"
        f"{trunk};data (rest_framework/serializers.py:5) 1\n"
    )
    assert bench_http.profile_summary(str(stacks)) == {
        "by_package": ["75.0% django", "25.0% rest_framework"],
        "functions": ["75.0% as_sql (django/db/compiler.py)", "25.0% data (rest_framework/serializers.py)"],
    }
