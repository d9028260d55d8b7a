"""gunicorn serving the project (config.wsgi) on a free loopback port, for a benchmark only:
started with the benchmark's environment, DEBUG off as in production, stopped on exit."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_PATH = "/api/v1/me/"  # answers 401 without a token once Django is up


def tool(name: str) -> str:
    """A program of the project's virtualenv, else from PATH."""
    local = ROOT / ".venv" / "bin" / name
    return str(local) if local.exists() else shutil.which(name) or name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_errors(log: Path) -> list[str]:
    """Lines of gunicorn's log that tell of an error (a traceback, a worker timeout)."""
    if not log.exists():
        return []
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line]


class Gunicorn:
    """``with Gunicorn(workers=4, log=path) as server:`` → ``server.base_url``, ``server.process``."""

    def __init__(
        self,
        *,
        workers: int,
        log: Path,
        worker_class: str = "sync",
        threads: int = 1,
        env: dict | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.argv = [
            tool("gunicorn"),
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
            **(env or os.environ),
            "DJANGO_DEBUG": "false",  # as in production: DEBUG keeps every query in memory
            "API_CLAIMS_THROTTLE_RATE": "1000000/s",  # lifted for the benchmark (still counted)
            "PYTHONUNBUFFERED": "1",
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, seconds: float) -> None:
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + READY_PATH, timeout=2, trust_env=False).status_code == 401:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master), from /proc."""
        from bench.cpu import children

        return children(self.process.pid) if self.process else []

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
