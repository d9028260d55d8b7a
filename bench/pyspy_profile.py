"""Where a server's Python time goes, sampled by py-spy while a load runs, summarised from its
collapsed stacks (one "frame;frame;… count" line per stack)."""

import subprocess
from collections import Counter
from pathlib import Path

from bench.server import tool


def profile_start(pid: int, path: str, seconds: float, *, idle: bool = False) -> subprocess.Popen:
    """py-spy on a process and its children, without pausing them. By default only threads
    holding the GIL (Python on CPU); ``idle=True`` samples wall-clock time instead, waiting on
    the database included (profile a single worker then, or idle workers fill the samples)."""
    argv = [tool("py-spy"), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    argv += ["--idle"] if idle else ["--gil"]
    argv += ["--rate", "100", "--format", "raw", "-o", path, "--duration", str(int(seconds) + 2)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frames(stack: str) -> list[str]:
    names = []
    for frame in stack.split(";"):
        if frame.startswith("process ") or " (" not in frame:
            continue
        function, where = frame.split(" (", 1)
        names.append(f"{function} ({where.rsplit(':', 1)[0].split('site-packages/')[-1]})")
    return names


def profile_summary(path: str, top: int = 30) -> dict[str, list[str]]:
    """By package of the function on CPU ("self"), and the functions in the most samples below
    the request's common trunk (gunicorn → middleware → view: frames in nearly every sample),
    e.g. "32.9% SQLCompiler.as_sql (django/db/models/sql/compiler.py)"."""
    total, inclusive, by_package = 0, Counter(), Counter()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        names = _frames(stack) if count.isdigit() else []
        if not names:
            continue
        n = int(count)
        total += n
        for name in set(names):
            inclusive[name] += n
        where = names[-1].rsplit(" (", 1)[1].rstrip(")")
        by_package[where.split("/")[0].removesuffix(".py")] += n
    if not total:
        return {"by_package": [], "functions": []}
    trunk = 0.85 * max(inclusive.values())
    functions = [(name, n) for name, n in inclusive.most_common() if n < trunk][:top]
    return {
        "by_package": [f"{n / total * 100:.1f}% {name}" for name, n in by_package.most_common(12)],
        "functions": [f"{n / total * 100:.1f}% {name}" for name, n in functions],
    }
