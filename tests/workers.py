"""A real `celery worker` process for tests: the `worker` fixture (parametrize it indirectly with
a broker URL) and `broker_down()`, which points publishing at a closed port."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app

REDIS = os.environ.get("CELERY_BROKER_URL", "")
# The broker every run has: Redis when CI configured it, else a filesystem folder.
ANY_BROKER = REDIS if REDIS.startswith("redis://") else "filesystem://"


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


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@contextmanager
def broker_down(monkeypatch):
    """Publish to a port where no broker listens, as if Redis had stopped."""
    saved = app.conf.get("CELERY_BROKER_URL")
    dead = "redis://127.0.0.1:1/0"
    app.conf.CELERY_BROKER_URL = dead
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    _reset_pool()
    try:
        yield
    finally:
        app.conf.CELERY_BROKER_URL = saved
        monkeypatch.setenv("CELERY_BROKER_URL", saved)
        _reset_pool()
