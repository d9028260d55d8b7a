"""pgbench's TPC-B on the benchmark's PostgreSQL, in a database of its own (made and dropped
here): what this server does per second with small write transactions, for context."""

import os
import re
import shutil
import subprocess
import time
from glob import glob

from bench.cpu import cpu_snapshot
from bench.database import pg_env


def _binary() -> str:
    found = sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which("pgbench") or "pgbench"


def parse_pgbench(output: str) -> dict:
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.MULTILINE)
    if tps is None:
        raise ValueError(f"no tps in pgbench's output:\n{output}")
    return {"tps": float(tps[1]), "latency_average_ms": float(latency[1]) if latency else None}


def pgbench(*, scale: int, clients: int, threads: int, seconds: int) -> dict:
    """TPC-B ``-s scale -c clients -j threads -T seconds``: TPS and the CPU it took."""
    env, bench_db = pg_env()
    database = os.environ.get("BENCH_PGBENCH_DATABASE", f"{bench_db}_pgbench")
    binary = _binary()

    def admin(sql: str) -> None:
        quiet = {**env, "PGOPTIONS": "-c client_min_messages=warning"}
        subprocess.run(["psql", "-X", "-q", "-d", bench_db, "-c", sql], env=quiet, check=True)

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
    finally:
        admin(f'DROP DATABASE IF EXISTS "{database}"')
    result = parse_pgbench(out.stdout)
    cores = {k: (after[k] - before[k]) / elapsed for k in ("postgres", "machine")}
    return {
        **result,
        "seconds": round(elapsed, 2),
        "cpu_cores": {k: round(v, 2) for k, v in cores.items()},
        "cpu_ms_per_transaction": {k: round(v / result["tps"] * 1000, 3) for k, v in cores.items()},
        "scale": scale,
        "clients": clients,
        "threads": threads,
        "duration": seconds,
    }
