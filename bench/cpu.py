"""Who used the two cores during a phase: gunicorn (the server and its workers), PostgreSQL, the
load client and the rest of the machine, from /proc (Linux; zeros elsewhere)."""

import os
import time
from glob import glob
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[str, int, float]]:
    """pid → (command, parent pid, CPU seconds). A process's CPU includes that of its children it
    has reaped (cutime, cstime): PostgreSQL backends and gunicorn workers that exited during a
    phase still count, in their postmaster or master."""
    table = {}
    for stat in glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        cpu = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        table[int(stat.split("/")[2])] = (comm, int(fields[1]), cpu / _TICK)
    return table


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    return sorted(child for child, (_comm, ppid, _cpu) in _proc_table().items() if ppid == pid)


def machine_busy() -> float:
    """CPU seconds spent busy on all cores since boot (/proc/stat)."""
    try:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)  # idle + iowait
    return (sum(cpu[:8]) - idle) / _TICK


def cpu_snapshot(server_pid: int | None = None) -> dict[str, float]:
    """CPU seconds so far of the server (a pid and its children), of PostgreSQL, of the machine."""
    table = _proc_table()
    server = {server_pid} | {pid for pid, (_c, ppid, _s) in table.items() if ppid == server_pid}
    server.discard(None)
    return {
        "gunicorn": sum(table[pid][2] for pid in server if pid in table),
        "postgres": sum(s for comm, _p, s in table.values() if comm == "postgres"),
        "machine": machine_busy(),
    }


def cpu_cores(before: dict, after: dict, seconds: float, client_cpu: float) -> dict[str, float]:
    """Cores used on average over the phase, by gunicorn, PostgreSQL, the load client and in all
    ("other" is the rest of "machine": the kernel's network work and anything else running)."""
    used = {k: (after[k] - before[k]) / seconds for k in before}
    used["client"] = client_cpu / seconds
    used["other"] = max(0.0, used["machine"] - used["gunicorn"] - used["postgres"] - used["client"])
    return {k: round(v, 2) for k, v in used.items()}


def cpu_ms_per_request(phase: dict) -> dict[str, float]:
    """CPU milliseconds per answered request, by whom (from the phase's cores and rate)."""
    rate = phase["per_second"]
    return {k: round(v / rate * 1000, 2) for k, v in phase["cpu_cores"].items()} if rate else {}


def background_cores(seconds: float = 2.0) -> float:
    """Cores busy with something else before the load starts (other processes on the machine)."""
    before = machine_busy()
    time.sleep(seconds)
    return round((machine_busy() - before) / seconds, 2)
