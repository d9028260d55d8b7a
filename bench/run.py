"""The benchmark suite: every scenario of bench/registry.py next to a baseline measured in the
same run on the same database, reported as a ratio with its goal (these machines are noisy).

    python -m bench.run                                   # everything, full size (make bench)
    python -m bench.run --lines 100000 --scale 10000,30000,100000 --page-sizes 1000,10000
    python -m bench.run --only settle,pages               # some scenarios; the others' results stay
    python -m bench.run --list

Needs the environment scripts/bench.sh sets up (DATABASE_URL on PostgreSQL for every scenario).
Writes bench/results.json (``{"machine", "scenarios": [...]}``) and prints a table.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project root, not bench/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.database import is_postgres
from bench.registry import SCENARIOS, Config, Scenario, by_key, result

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a comma-separated list of whole numbers, not {text!r}") from None
    if not sizes or any(not 1 <= n <= 20_000_000 for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes from 1 to 20,000,000, not {text!r}")
    return sizes


def _count(text: str) -> int:
    sizes = _sizes(text)
    if len(sizes) != 1:
        raise argparse.ArgumentTypeError(f"one whole number, not {text!r}")
    return sizes[0]


def parser() -> argparse.ArgumentParser:
    defaults = Config()
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--lines", type=_count, default=defaults.lines, help="settlement: approved claims")
    p.add_argument("--scale", type=_sizes, default=defaults.scale, help="closing the window: sizes")
    p.add_argument("--page-sizes", type=_sizes, default=defaults.page_sizes, help="pages: the seller's lines")
    p.add_argument(
        "--buyer-orders", type=_count, default=defaults.buyer_orders, help="pages: the buyer's orders"
    )
    p.add_argument("--http-policies", type=_count, default=defaults.http_policies, help="claims over HTTP")
    p.add_argument(
        "--detect-policies", type=_count, default=defaults.detect_policies, help="detection: open policies"
    )
    p.add_argument(
        "--detect-records", type=_count, default=defaults.detect_records, help="detection: price records"
    )
    p.add_argument("--only", type=lambda s: s.split(","), help="scenario keys, comma-separated (--list)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--results", type=Path, default=RESULTS, help="where to write the results")
    return p


def run_one(scenario: Scenario, config: Config) -> list[dict]:
    print(f"\n== {scenario.key}: {scenario.summary}", flush=True)
    if scenario.postgres_only and not is_postgres():
        print("   skipped: needs PostgreSQL in DATABASE_URL", flush=True)
        return []
    started = time.perf_counter()
    try:
        rows = scenario.run(config)
    except Exception as error:  # one broken scenario must not lose the others' figures
        traceback.print_exc()
        rows = [
            result(
                key=scenario.key,
                name=scenario.summary,
                figures={"error": f"{type(error).__name__}: {error}"},
                baseline={},
                ratio=0,
                goal="runs to the end",
                met=False,
            )
        ]
    minutes = (time.perf_counter() - started) / 60
    print(f"   {scenario.key} took {minutes:.1f} min", flush=True)
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return [{**row, "key": scenario.key, "minutes": round(minutes, 1), "when": when} for row in rows]


def merge(path: Path, fresh: list[dict], ran: list[str]) -> list[dict]:
    """The scenarios just run, in registry order, and the earlier results of those not run."""
    earlier = json.loads(path.read_text())["scenarios"] if path.exists() else []
    order = {s.key: i for i, s in enumerate(SCENARIOS)}
    # Rows of scenarios that no longer exist (or of an older format, with no key) are dropped.
    kept = [row for row in earlier if row.get("key") in order and row["key"] not in ran]
    return sorted(kept + fresh, key=lambda row: order.get(row.get("key"), len(order)))


def machine() -> dict:
    database = os.environ.get("DATABASE_URL", "sqlite (embedded default)").split("@")[-1]
    postgres = None
    if is_postgres():
        postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "database": database,
        "postgres": postgres,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def print_table(rows: list[dict], path: Path) -> None:
    print(f"\n{'scenario':64} {'ratio':>7}  {'goal':52} met")
    for row in rows:
        print(
            f"{row['name'][:64]:64} {row['ratio']:7.2f}  {row['goal'][:52]:52} {'yes' if row['met'] else 'NO'}"
        )
    print(f"\nwritten to {path}")


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.key:12} {s.summary}{' (PostgreSQL)' if s.postgres_only else ''}")
        return 0
    try:
        scenarios = by_key(args.only)
    except ValueError as error:
        parser().error(str(error))
    config = Config(
        lines=args.lines,
        scale=args.scale,
        page_sizes=args.page_sizes,
        buyer_orders=args.buyer_orders,
        http_policies=args.http_policies,
        detect_policies=args.detect_policies,
        detect_records=args.detect_records,
    )
    started = time.perf_counter()
    fresh = [row for scenario in scenarios for row in run_one(scenario, config)]
    rows = merge(args.results, fresh, [s.key for s in scenarios])
    report = {
        "machine": {**machine(), "minutes": round((time.perf_counter() - started) / 60, 1)},
        "scenarios": rows,
    }
    args.results.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print_table(rows, args.results)
    return 1 if any("error" in row["figures"] for row in fresh) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
