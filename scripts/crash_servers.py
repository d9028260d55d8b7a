"""The crash test's own PostgreSQL and Redis (scripts/crash_settlement.py): started on ports of
their own in a temporary folder, with durability on, so the test may crash them. It never touches
the shared servers of scripts/ci_services.sh."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DB_NAME, DB_USER, DB_PASSWORD = "baojia_crash", "baojia", "baojia"


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1].parent


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: as root, its commands run as the postgres user."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, cwd="/", **kwargs)  # a folder postgres may enter


class Servers:
    """A PostgreSQL and a Redis that only this script uses, in a temporary folder."""

    def __init__(self, *, pg_port: int, redis_port: int) -> None:
        self.pg_port, self.redis_port = pg_port, redis_port
        self.folder = Path(tempfile.mkdtemp(prefix="baojia-crash."))
        self.data = self.folder / "pg"
        self.redis: subprocess.Popen | None = None

    @property
    def database_url(self) -> str:
        return f"postgres://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.pg_port}/{DB_NAME}"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        bin_ = _pg_bin()
        _as_postgres(
            [str(bin_ / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
             "--auth-local=trust", "--auth-host=scram-sha-256"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            # Durability stays on (fsync, synchronous_commit): this server is crashed on purpose.
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.pg_port}\n"
                f"unix_socket_directories = '{self.folder}'\n"
            )
        self._pg_ctl("start")
        sql = (
            f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'; "
            f"CREATE DATABASE {DB_NAME} OWNER {DB_USER};"
        )
        for statement in sql.split("; "):
            _as_postgres(
                ["psql", "-X", "-q", "-h", str(self.folder), "-p", str(self.pg_port), "-U", "postgres",
                 "-d", "postgres", "-c", statement],
            )  # fmt: skip
        self.start_redis()

    def _pg_ctl(self, action: str, *options: str) -> None:
        _as_postgres(
            [str(_pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
             "-w", "-t", "60", action, *options],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def restart_postgres(self) -> None:
        """Immediate mode: the server stops without a checkpoint and recovers from its WAL."""
        self._pg_ctl("restart", "-m", "immediate")

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--logfile", str(self.folder / "redis.log")],
            start_new_session=True,
        )  # fmt: skip
        for _ in range(200):
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise SystemExit(f"our redis-server on port {self.redis_port} did not start")

    def kill_redis(self) -> None:
        self.redis.kill()
        self.redis.wait()

    def redis_cli(self, *command: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), *command], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    def redis_count(self, *command: str) -> int:
        return int(self.redis_cli(*command) or 0)

    def stop(self, *, keep: bool) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=30)
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast")
        if keep:
            print(f"kept {self.folder}", file=sys.stderr)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
