"""The benchmark suite: every scenario next to a bare-SQL baseline of the same row work, run in
the same process tree on the same database, reported as a ratio (these machines are noisy).

    python bench/run.py                       # full size (1,000,000 lines), PostgreSQL from DATABASE_URL
    python bench/run.py --lines 100000 --scale 10000,30000,100000   # smaller

Writes bench/results.json and prints a table. Each step runs in its own process (bench/steps.py),
so its wall time and peak RSS (from wait4) are its own.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
# Run as a script, Python puts bench/ first on the path, where bench/http.py would shadow the
# standard library's http package (and `import bench` would fail): put the project root there.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)


def step(name: str, **options) -> dict:
    argv = [sys.executable, "-m", "bench.steps", name]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, env=os.environ.copy())
    started = time.perf_counter()
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench step {name} {options} failed")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["process_seconds"] = round(wall, 2)
    print(
        f"  {name:16} {json.dumps(options):40} {result.get('seconds', 0):8.2f}s  rss {result['peak_rss_mb']} MB",
        flush=True,
    )
    return result


def close_window(lines: int) -> dict:
    campaign = step("simulate", orders=lines, price_drop_share=0)["campaign"]
    baseline = step("close-baseline", campaign=campaign)
    measured = step("close", campaign=campaign)
    assert measured["rows"] == baseline["rows"] == lines, (measured, baseline)
    return {"baseline": baseline, "measured": measured}


def scenario(name: str, figures: dict, baseline: dict, ratio: float, goal: str, met: bool) -> dict:
    return {
        "name": name,
        "figures": figures,
        "baseline": baseline,
        "ratio": round(ratio, 2),
        "goal": goal,
        "met": met,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--scale", default="100000,300000,1000000")
    args = parser.parse_args()
    scale = [int(n) for n in args.scale.split(",")]
    scenarios = []
    runs = {}

    print("scenario 5 (and 1): close the claim window at", scale, flush=True)
    for lines in sorted(set(scale) | {args.lines}):
        runs[lines] = close_window(lines)
    big = runs[args.lines]
    seconds, base = big["measured"]["seconds"], big["baseline"]["seconds"]
    rss = big["measured"]["peak_rss_mb"]
    scenarios.append(
        scenario(
            f"close the window of a campaign with {args.lines:,} insured lines",
            {"seconds": round(seconds, 2), "peak_rss_mb": rss, "rows": big["measured"]["rows"]},
            {"what": "bare UPDATE of the same policy rows", "seconds": round(base, 2)},
            seconds / base,
            "ratio ≤ 2 and peak RSS ≤ 400 MB",
            seconds / base <= 2 and rss <= 400,
        )
    )
    per_row = {n: runs[n]["measured"]["seconds"] / n * 1e6 for n in scale}
    spread = max(per_row.values()) / min(per_row.values())
    scenarios.append(
        scenario(
            "scaling: closing the window, time per row at " + ", ".join(f"{n:,}" for n in scale),
            {
                "microseconds_per_row": {str(n): round(v, 2) for n, v in per_row.items()},
                "peak_rss_mb": {str(n): runs[n]["measured"]["peak_rss_mb"] for n in scale},
            },
            {
                "what": "bare UPDATE per row",
                "microseconds_per_row": {
                    str(n): round(runs[n]["baseline"]["seconds"] / n * 1e6, 2) for n in scale
                },
            },
            spread,
            "max/min time per row ≤ 1.25",
            spread <= 1.25,
        )
    )

    print(f"scenario 2: settle {args.lines:,} approved claims", flush=True)
    step("simulate", orders=args.lines, price_drop_share=1, claims_share=1)
    baseline = step("settle-baseline")
    measured = step("settle")
    ratio = measured["seconds"] / baseline["seconds"]
    scenarios.append(
        scenario(
            f"settle {args.lines:,} approved claims into the ledger",
            {
                "seconds": round(measured["seconds"], 2),
                "peak_rss_mb": measured["peak_rss_mb"],
                "paid": measured["rows"],
                "second_run_paid": measured["second_run_paid"],
                "second_run_entries_added": measured["second_run_entries_added"],
                "ledger_discrepancies": measured["ledger_discrepancies"],
            },
            {
                "what": "bare INSERT … SELECT of the same transfers and entries",
                "seconds": round(baseline["seconds"], 2),
            },
            ratio,
            "ratio ≤ 3; a second run pays nothing",
            ratio <= 3 and measured["second_run_paid"] == 0 and not measured["ledger_discrepancies"],
        )
    )

    extra = ROOT / "bench" / "http.py"
    if extra.exists():
        from bench import http  # noqa: PLC0415 - optional scenarios that need the web stack

        scenarios += http.run()

    RESULTS.write_text(
        json.dumps({"machine": machine(), "scenarios": scenarios}, ensure_ascii=False, indent=2)
    )
    print_table(scenarios)


def machine() -> dict:
    import subprocess as sp

    database = os.environ.get("DATABASE_URL", "sqlite (embedded default)").split("@")[-1]
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "database": database,
        "postgres": sp.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
        if database != "sqlite (embedded default)"
        else None,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def print_table(scenarios: list[dict]) -> None:
    print()
    print(f"{'scenario':70} {'ratio':>7} {'goal':48} met")
    for s in scenarios:
        print(f"{s['name'][:70]:70} {s['ratio']:7.2f} {s['goal'][:48]:48} {'yes' if s['met'] else 'NO'}")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
