"""Redis down with the scale-out settings (``REDIS_URL`` and the broker on the same Redis): the
cache and the throttles in it degrade instead of failing. Buyers still file claims and log in, a
warning says what happened, the throttles keep counting in the process's own memory, and the cache
goes back to Redis once Redis answers again."""

import contextlib
import logging
import os
import runpy
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from rest_framework.settings import api_settings

from claims.models import Claim, ClaimState
from config.celery import app
from shops.services import sku_price_change
from tests.api.conftest import client_for, error_of
from tests.workers import broker_down

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def product_caches(monkeypatch, redis_url: str) -> dict:
    """``CACHES`` exactly as config/settings.py builds them from the environment."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    return runpy.run_path(str(Path(django_settings.BASE_DIR) / "config" / "settings.py"))["CACHES"]


@pytest.fixture
def redis_down(settings, monkeypatch):
    """The cache and the broker point at a Redis that does not answer; tasks are really published."""
    settings.CACHES = product_caches(monkeypatch, DEAD)
    eager = app.conf.CELERY_TASK_ALWAYS_EAGER
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with broker_down(monkeypatch):
            yield
    finally:
        app.conf.CELERY_TASK_ALWAYS_EAGER = eager


def file_claim(client, line, evidence_number: str):
    body = {"order": line.order.number, "line": line.pk, "evidence_order_number": evidence_number}
    return client.post("/api/v1/claims/", body, format="json")


def test_a_buyer_files_a_claim_over_the_api_while_redis_is_down(
    world, insured_line, place_evidence, redis_down, caplog, django_capture_on_commit_callbacks
):
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = place_evidence()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = file_claim(client_for(world.alice), insured_line, evidence.number)
    assert response.status_code == 201, response.content[:300]
    assert time.monotonic() - started < 5
    # Stored, to be adjudicated when the sweep re-queues it (the broker is down too).
    assert Claim.objects.get().state == ClaimState.SUBMITTED
    assert any("cache" in r.getMessage().lower() and r.levelno == logging.WARNING for r in caplog.records)


def test_a_user_logs_in_for_a_token_while_redis_is_down(world, redis_down):
    response = client_for().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "pw-Secret-123"}, format="json"
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["token"]


def test_the_throttles_keep_counting_in_memory_while_redis_is_down(world, insured_line, redis_down, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**api_settings.DEFAULT_THROTTLE_RATES, "claims": "2/min", "auth": "2/min"},
    }
    alice = client_for(world.alice)
    for _attempt in range(2):
        assert file_claim(alice, insured_line, "!!").status_code == 400
    assert error_of(file_claim(alice, insured_line, "!!")) == (429, "throttled")
    wrong = {"username": "alice", "password": "wrong"}
    anon = client_for()
    for _attempt in range(2):
        assert anon.post("/api/v1/auth/token/", wrong, format="json").status_code == 400
    assert error_of(anon.post("/api/v1/auth/token/", wrong, format="json")) == (429, "throttled")


# --- a Redis of our own, stopped and started again ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int, folder: Path) -> None:
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log"),
         "--pidfile", str(folder / "redis.pid")],
        check=True,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"redis-server on port {port} did not start")


def _kill_redis(folder: Path) -> None:
    """SIGKILL our own redis-server, as a crash would, and wait until it is gone."""
    pidfile = folder / "redis.pid"
    pid = int(pidfile.read_text())
    pidfile.unlink()  # never signal that number again: it may be another process's by then
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            if "zombie" in Path(f"/proc/{pid}/status").read_text():
                return
        except FileNotFoundError:
            return
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_the_cache_goes_back_to_redis_when_it_returns(settings, monkeypatch, tmp_path, caplog):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    _start_redis(port, tmp_path)
    direct = redis.Redis(port=port, retry=None)
    try:
        configured = product_caches(monkeypatch, url)
        configured["default"]["REDIS_DOWN_RETRY_SECONDS"] = 0  # try Redis again at once
        settings.CACHES = configured
        cache = caches["default"]
        cache.set("before", 1)
        assert direct.dbsize() == 1  # in Redis

        _kill_redis(tmp_path)
        with caplog.at_level(logging.WARNING):
            cache.set("during", 2)
            assert cache.get("during") == 2  # kept in this process's memory meanwhile
        assert any("cache" in r.getMessage().lower() for r in caplog.records if r.levelno == logging.WARNING)

        _start_redis(port, tmp_path)
        cache.set("after", 3)
        assert direct.dbsize() == 1 and cache.get("after") == 3  # in Redis again
    finally:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            _kill_redis(tmp_path)
