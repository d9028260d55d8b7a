"""The benchmark's PostgreSQL: its connection settings, fresh databases, and a quiet server
between measurements (``VACUUM ANALYZE``, then no autovacuum running), plus the row and index
bookkeeping that tells whether two sides of a ratio wrote the same rows.

Parent-side helpers read ``DATABASE_URL``; the functions marked *step* run in a Django process
(``run_step("bench.database:quiesce")``). On SQLite (the tests) the steps do nothing."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


def is_postgres(url: str | None = None) -> bool:
    url = url if url is not None else os.environ.get("DATABASE_URL", "")
    return url.startswith(("postgres://", "postgresql://"))


def pg_env(url: str | None = None) -> tuple[dict[str, str], str]:
    """libpq's environment for ``DATABASE_URL`` (psql, pgbench), and the database's name."""
    parsed = urlparse(url or os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "PGHOST": parsed.hostname or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": unquote(parsed.username or ""),
        "PGPASSWORD": unquote(parsed.password or ""),
    }
    return env, parsed.path.lstrip("/")


def fresh_database(name: str) -> dict[str, str]:
    """Drop and create database ``name`` on the benchmark's server, migrate it; the environment
    (``os.environ`` with its ``DATABASE_URL``) for the steps and servers that use it."""
    if not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise ValueError(f"a database name is letters, digits and _, not {name!r}")
    env, current = pg_env()
    quiet = {**env, "PGOPTIONS": "-c client_min_messages=warning"}
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-X", "-q", "-d", current, "-c", sql], env=quiet, check=True)
    url = urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    child = {**os.environ, "DATABASE_URL": url}
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=child, check=True)
    return child


# --- steps (Django) --------------------------------------------------------------------------


def quiesce(*, timeout: float = 900.0, quiet_seconds: float = 3.0) -> dict:
    """*Step.* ``VACUUM ANALYZE`` the database, then wait until no autovacuum worker has run on it
    for ``quiet_seconds``: what the next measurement sees is the product's work, not the
    clean-up after the last bulk load. (CHECKPOINT needs a superuser; the server's own
    checkpoints are what they are.)"""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"skipped": connection.vendor}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET client_min_messages = error")  # catalogs we do not own are skipped
        cursor.execute("VACUUM (ANALYZE)")
        vacuumed = time.perf_counter()
        quiet_since = time.perf_counter()
        while time.perf_counter() - quiet_since < quiet_seconds:
            if time.perf_counter() - vacuumed > timeout:
                raise TimeoutError(f"autovacuum still running after {timeout:.0f} s")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                quiet_since = time.perf_counter()
            time.sleep(0.5)
    return {
        "vacuum_seconds": round(vacuumed - started, 2),
        "autovacuum_wait_seconds": round(time.perf_counter() - vacuumed - quiet_seconds, 2),
    }


def table_writes(*, tables: list[str]) -> dict[str, dict | None]:
    """*Step.* Rows inserted and updated so far in each table (PostgreSQL's statistics count
    rolled-back writes too, so a rolled-back baseline is counted like a committed run), as
    ``{"writes": {table: {...}}}``; None on SQLite. Read in a process of its own after the writers
    exited, so their counts are flushed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {"writes": None}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [tables],
        )
        found = {name: {"inserted": i, "updated": u, "hot_updated": h} for name, i, u, h in cursor.fetchall()}
    zero = {"inserted": 0, "updated": 0, "hot_updated": 0}
    return {"writes": {name: found.get(name, zero) for name in tables}}


def index_counts(*, tables: list[str]) -> dict[str, list[str]]:
    """*Step.* The indexes of each table, by name (PostgreSQL; [] on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {name: [] for name in tables}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE t.relname = ANY(%s) ORDER BY 1, 2",
            [tables],
        )
        found: dict[str, list[str]] = {name: [] for name in tables}
        for table, index in cursor.fetchall():
            found[table].append(index)
    return found


def writes_between(before: dict | None, after: dict | None) -> dict[str, dict[str, int]] | None:
    """Per table: rows inserted, updated, and updated without touching any index (HOT)."""
    if before is None or after is None:
        return None
    return {
        table: {k: after[table][k] - before[table][k] for k in after[table]}
        for table in after
        if any(after[table][k] != before[table][k] for k in after[table])
    }
