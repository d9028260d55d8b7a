"""The scenarios of ``make bench``, in the order they run, and the shape of their results.

A scenario is a function ``run(config: Config) -> list[dict]`` in a module of ``bench/``; each
dict it returns is one row of the results table, made with :func:`result`. To add one, write the
module and add a line to ``SCENARIOS`` (docs/BENCHMARKS.md, "Adding a scenario").
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Config:
    """What a run was asked for (``bench/run.py``'s options). Sizes are insured order lines."""

    lines: int = 300_000  # settlement (its time per claim does not grow with size: see its batches)
    scale: tuple[int, ...] = (100_000, 300_000, 1_000_000)  # closing the window, per size
    page_sizes: tuple[int, ...] = (10_000, 1_000_000)  # a seller's lines, over 20 campaigns
    buyer_orders: int = 1_000  # the orders of the buyer whose pages are measured
    http_policies: int = 60_000  # claims the HTTP load can file
    detect_policies: int = 1_000_000  # price-drop detection: claimable policies
    detect_records: int = 10_000_000  # price-drop detection: price records


@dataclass(frozen=True)
class Scenario:
    key: str  # for --only, and the results' "key"
    summary: str
    runner: str  # "bench.<module>:<function>", imported only when the scenario runs
    postgres_only: bool = False  # skipped (and said so) on SQLite

    def run(self, config: Config) -> list[dict]:
        module, _, function = self.runner.partition(":")
        run: Callable[[Config], list[dict]] = getattr(import_module(module), function)
        return run(config)


SCENARIOS = [
    Scenario(
        "close", "close a campaign's claim window, and its time per row as campaigns grow", "bench.close:run"
    ),
    Scenario(
        "settle", "settle approved claims into the ledger vs bare SQL of the same rows", "bench.settle:run"
    ),
    Scenario(
        "claims-http",
        "file claims over HTTP vs the same stack answering GET /api/v1/me/",
        "bench.claims_http:run",
        postgres_only=True,
    ),
    Scenario("pages", "the pages people look at, at 1 and 8 users, 10k → 1M lines", "bench.pages:run", True),
    Scenario(
        "detection",
        "detect price drops over every open policy (full, then incremental) vs bare SQL of the same minimum",
        "bench.detection:scenario",
        postgres_only=True,
    ),
]


def by_key(keys: list[str] | None = None) -> list[Scenario]:
    """The scenarios named (all when None), in their registry order; an unknown name is an error."""
    known = {s.key: s for s in SCENARIOS}
    unknown = [k for k in keys or [] if k not in known]
    if unknown:
        raise ValueError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(known)}")
    return [s for s in SCENARIOS if keys is None or s.key in keys]


def result(
    *, key: str, name: str, figures: dict, baseline: dict, ratio: float, goal: str, met: bool, **extra: Any
) -> dict:
    """One row of bench/results.json. ``ratio`` is measured ÷ baseline unless ``goal`` says
    otherwise; ``met`` says whether every part of ``goal`` held in this run."""
    return {
        "key": key,
        "name": name,
        "figures": figures,
        "baseline": baseline,
        "ratio": round(ratio, 2),
        "goal": goal,
        "met": bool(met),
        **extra,
    }
