"""A real `celery worker` process adjudicates and pays a claim, over filesystem:// and Redis."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from alipay.selectors import buyer_balance_fen, ledger_discrepancies
from claims.models import Claim, ClaimState
from claims.services import claim_file
from config.celery import app
from orders.services import order_place
from shops.services import sku_price_change

REDIS = os.environ.get("CELERY_BROKER_URL", "")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path: Path, request, monkeypatch):
    """Start a worker on its own queue (and, for filesystem://, its own folder)."""
    broker = request.param
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "DJANGO_ENV": "test",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # Settings come from Django with the CELERY_ namespace, so the prefixed keys are the ones read.
    keys = ("TASK_ALWAYS_EAGER", "TASK_DEFAULT_QUEUE", "BROKER_URL", "BROKER_TRANSPORT_OPTIONS")
    saved = {f"CELERY_{k}": app.conf.get(f"CELERY_{k}") for k in keys}
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.CELERY_TASK_DEFAULT_QUEUE = queue
    app.conf.CELERY_BROKER_URL = broker
    # Celery lets the CELERY_BROKER_URL environment variable win over any setting.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    if broker.startswith("filesystem"):
        env["CELERY_FILESYSTEM_DIR"] = str(tmp_path)
        folders = {name: tmp_path / name for name in ("in", "processed", "control")}
        for folder in folders.values():
            folder.mkdir()
        app.conf.CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": str(folders["in"]),
            "data_folder_out": str(folders["in"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
        }
    else:
        app.conf.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    _reset_pool()
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed in teardown
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = tmp_path / "worker.log"
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    app.conf.update(saved)
    _reset_pool()


def _reset_pool() -> None:
    """Drop the app's connections so the next publish uses the broker configured now."""
    app._pool = None  # kombu keeps one pool per broker URL; the app looks it up again
    app.amqp._producer_pool = None


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def _assert_paid_by_worker(world, worker) -> None:
    order = world.buy(quantity=1)
    world.end_campaign()
    sku_price_change(sku=world.other_shop_sku, price_fen=14_900)
    evidence = order_place(buyer=world.alice, address=world.alice_address, items=[(world.other_shop_sku, 1)])
    before = buyer_balance_fen(world.alice)
    claim = claim_file(order_line=world.line(order), evidence_order_number=evidence.number, buyer=world.alice)
    paid = _wait_for(lambda: Claim.objects.get(pk=claim.pk).state == ClaimState.PAID)
    assert paid, f"the worker did not pay the claim (worker exit code: {worker.poll()})"
    assert buyer_balance_fen(world.alice) == before + (15_900 - 14_900)
    # It was the worker process, not this one, that ran the tasks.
    log = worker.log_path.read_text()
    assert "claims.tasks.claim_adjudicate" in log and "claims.tasks.claims_settle" in log, log[-2000:]
    assert ledger_discrepancies() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("worker", ["filesystem://"], indirect=True)
def test_it_is_paid_by_a_real_worker_over_the_filesystem_broker(world, worker):
    _assert_paid_by_worker(world, worker)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS.startswith("redis://"), reason="CELERY_BROKER_URL is not a redis:// URL")
@pytest.mark.parametrize("worker", [REDIS], indirect=True)
def test_it_is_paid_by_a_real_worker_over_redis(world, worker):
    _assert_paid_by_worker(world, worker)
