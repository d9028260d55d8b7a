"""Each benchmark step runs in a process of its own, so that its wall time, CPU seconds and peak
memory (from ``wait4``) are its own and no state leaks from one step into the next.

    run_step("bench.steps:close", {"campaign": 3})   # in the parent: → the step's JSON, plus accounting
    python -m bench.proc bench.steps:close '{"campaign": 3}'   # what the child runs

A step is a function of a ``bench`` module that takes keyword arguments (JSON values) and returns
a JSON-serialisable dict. Django is set up first unless the caller says ``django=False`` (the
load client, which must not spend CPU on it).
"""

import json
import os
import sys
import time
from importlib import import_module
from pathlib import Path
from subprocess import PIPE, Popen
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class StepFailed(RuntimeError):
    """A step's process exited with an error (its traceback went to stderr)."""


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _resolve_name(target: str) -> tuple[str, str]:
    module_name, _, function = target.partition(":")
    if not module_name.startswith("bench.") or not function.isidentifier() or function.startswith("_"):
        raise ValueError(f"a step is 'bench.<module>:<function>', not {target!r}")
    return module_name, function


def run_step(
    target: str, options: dict[str, Any] | None = None, *, django: bool = True, env: dict | None = None
) -> dict:
    """Run ``target(**options)`` in a child process (``env``: its environment, default ours); its
    result with ``process_seconds``, ``cpu_seconds`` and ``peak_rss_mb`` added."""
    options = options or {}
    _resolve_name(target)
    argv = [sys.executable, "-m", "bench.proc", target, json.dumps(options)]
    if not django:
        argv.insert(3, "--no-django")
    process = Popen(argv, cwd=ROOT, stdout=PIPE, env=env or os.environ.copy())
    started = time.perf_counter()
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}; its traceback is above"
        raise StepFailed(f"bench step {target} {json.dumps(options)[:200]} failed ({how})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def main(argv: list[str]) -> None:
    django = argv[:1] != ["--no-django"]
    argv = argv if django else argv[1:]
    if len(argv) != 2:
        raise SystemExit("usage: python -m bench.proc [--no-django] bench.<module>:<function> '<JSON>'")
    module_name, function = _resolve_name(argv[0])
    if django:
        django_setup()  # before the step's module imports any model
    step = getattr(import_module(module_name), function)
    print(json.dumps(step(**json.loads(argv[1])), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
