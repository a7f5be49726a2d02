"""The benchmark suite: every benchmark in turn, then one table of their ratios.

    .venv/bin/python -m benchmarks [--full] [--only NAME,...] [--skip NAME,...]
                                   [--no-postgres]

`make bench` runs it at the smallest sizes that still say something, in at most 15 minutes
on two cores: the lending API (and FastAPI's path alone, sync against async), catalogue
search, the simulator, extraction, the nightly run
and the DuckDB warehouse scaling, three runs each. `make bench-full` (`--full`) runs them
at the large volumes (1, 4 and 16 times the consortium's yearly volume, three full-scale
years for the nightly run; several hours), adds PostgreSQL and Spark to the warehouse scaling, `make
demo` step by step (`end_to_end`), and checks the simulator's calibration at full scale
(`calibration`, two whole years). Each
benchmark runs in its own process and writes `benchmarks/results/<name>.json`; the
combined table (every ratio with min/median/max over its runs, each against a baseline
measured in the same run) is printed at the end and written to
`benchmarks/results/summary.json`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import RESULTS_DIR, Measurement, format_table, write_results

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> (arguments for `make bench`, arguments for `make bench-full`); None: not run
SUITE: dict[str, tuple[list[str] | None, list[str]]] = {
    "lending_api": (["--seconds", "4", "--runs", "3"], ["--seconds", "10", "--runs", "5"]),
    # FastAPI's request path alone, sync against async (issue 18's choice), no database
    "sync_async": (["--seconds", "4", "--runs", "3"], ["--seconds", "10", "--runs", "5"]),
    # catalogue search through the visitors' web on 500 000 titles, against a LIKE scan
    "search": (
        ["--titles", "500000", "--seconds", "6", "--runs", "3"],
        ["--titles", "500000", "--seconds", "10", "--runs", "5"],
    ),
    "simulator": (
        ["--scale", "0.1", "--days", "7", "--runs", "3"],
        ["--scale", "1.0", "--days", "28", "--runs", "3"],
    ),
    "extraction": (
        ["--sizes", "100000,200000,400000", "--runs", "3"],
        # 1, 2 and 4 years of the consortium's ~6 000 events a day
        ["--sizes", "2190000,4380000,8760000", "--runs", "3"],
    ),
    # quick: three years of history at a small scale; each round is one nightly run and
    # one full rebuild (Dagster's overhead comes from end_to_end; the Dagster nightly and
    # the facts-alone timings only in the full suite)
    "nightly": (
        ["--years", "3", "--scale", "0.02", "--runs", "3", "--no-facts-alone", "--no-dagster"],
        # the consortium's real volume: three years of the whole population, and the same
        # nights on one year of history (the nightly run's peak memory, 3 years / 1 year)
        ["--years", "3", "--scale", "1.0", "--runs", "3", "--compare-years", "1"],
    ),
    # quick: 1x and 16x a small base on DuckDB; PostgreSQL (and Spark) only in the full
    # suite, where they are set against DuckDB at the same volumes
    "warehouse_scaling": (
        ["--base-scale", "0.03125", "--factors", "1,16", "--runs", "3", "--engines", "duckdb"],
        [
            "--base-scale",
            "0.25",
            "--factors",
            "4,16,64",
            "--runs",
            "3",
            "--engines",
            "duckdb,postgres,spark",
            "--spark-factors",
            "4",
        ],
    ),
    # `make demo` step by step, reports included: full suite only (three whole pipelines
    # with the Evidence build do not fit in the quick suite's 15 minutes on two cores)
    "end_to_end": (None, ["--runs", "3"]),
    # a check, not a timing: the calibration table of two whole years at the whole
    # population, every municipality-year within ±10 % (the README's claim); at small
    # scales sampling noise alone exceeds that, so the quick suite leaves it out
    "calibration": (
        None,
        ["--scale", "1.0", "--start", "2024-01-01", "--end", "2025-12-31", "--seed", "42"],
    ),
}
POSTGRES_FLAG = {"lending_api": "--no-postgres", "simulator": "--no-postgres",
                 "extraction": "--no-postgres", "search": "--no-postgres"}  # fmt: skip


def _headline(name: str, result: dict) -> list[Measurement]:
    """The ratios (and shares) of one benchmark's results."""
    rows = []
    for key, summary in result["results"].items():
        if "ratio" in summary["unit"] or "share" in summary["unit"]:
            rows.append(Measurement(f"{name}: {key}", summary["unit"], summary["values"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the large volumes (bench-full)")
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument("--no-postgres", action="store_true", help="leave PostgreSQL out")
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    skip = [n for n in args.skip.split(",") if n]
    unknown = [n for n in only + skip if n not in SUITE]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(SUITE)}")
    started = time.perf_counter()
    timings, failures, summary = {}, {}, []
    for name, (quick, full) in SUITE.items():
        if (only and name not in only) or name in skip:
            continue
        if not args.full and quick is None:
            print(f"\n===== {name}: full suite only (make bench-full)", flush=True)
            continue
        arguments = list(full if args.full else quick)
        if args.no_postgres:
            if name in POSTGRES_FLAG:
                arguments.append(POSTGRES_FLAG[name])
            if name == "warehouse_scaling":
                arguments += ["--engines", "duckdb"]
        print(f"\n===== {name} {' '.join(arguments)}", flush=True)
        began = time.perf_counter()
        code = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", *arguments], cwd=PROJECT_ROOT
        ).returncode
        timings[name] = round(time.perf_counter() - began, 1)
        if code != 0:
            failures[name] = f"exit code {code}"
            continue
        result = json.loads((RESULTS_DIR / f"{name}.json").read_text())
        summary += _headline(name, result)
        if name == "end_to_end":
            slowest = result["context"].get("slowest_step")
    total = time.perf_counter() - started
    context = {
        "mode": "full" if args.full else "quick",
        "seconds_per_benchmark": timings,
        "total_seconds": round(total, 1),
        "failed": failures,
    }
    if "slowest" in locals():
        context["slowest_step_end_to_end"] = slowest
    write_results("summary", summary, context)
    print()
    print(
        format_table(
            f"Benchmarks ({context['mode']}, {total / 60:.1f} min): ratios, each against a "
            "baseline measured in the same run",
            summary,
        )
    )
    if "slowest_step_end_to_end" in context:
        print(f"slowest step of make demo: {context['slowest_step_end_to_end']}")
    print(f"time per benchmark (s): {timings}")
    if failures:
        print(f"FAILED: {failures}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
