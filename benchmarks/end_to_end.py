"""Benchmark: the `make demo` pipeline's wall time, split by step.

    .venv/bin/python -m benchmarks.end_to_end [--scale 0.25] [--start 2024-01-01]
                                              [--end 2026-10-31] [--runs 3] [--no-reports]

What `make demo` runs, each step a fresh process as there: `bibbla db init --reset`,
`bibbla simulate` (the period at the scale), `bibbla pipeline run` (Dagster: ingestion,
the landing checks, dbt build, the mart checks, dbt docs, the Evidence site). The pipeline
is split further by its steps' times from Dagster's event log, grouped by what they do;
what is left of its wall time is Dagster's own fixed cost. Every figure is also given as a
share of the whole run measured in the same round. The defaults are `make demo`'s;
`make bench` runs a shorter period at a smaller scale.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import CommandFailed, Measurement, format_table, ratio, write_results
from benchmarks.dagster_steps import last_run_steps
from benchmarks.lab import Lab

GROUPS = ("ingestion", "checks", "dbt build", "dbt docs", "reports", "other")


def one_run(root: Path, args, reports: bool) -> dict[str, float]:
    lab = Lab(root)
    root.mkdir(parents=True)
    init = lab.init()
    sim = lab.simulate(args.start, args.end, args.scale)
    pipeline = lab.pipeline(*([] if reports else ["--no-reports"]))
    steps = last_run_steps(lab.root / "dagster_home")
    groups = steps.grouped()
    row = {
        "db init": init.seconds,
        "simulate": sim.seconds,
        "pipeline": pipeline.seconds,
        "pipeline peak MB": pipeline.peak_rss_mb,
        **{f"pipeline: {g}": groups.get(g, 0.0) for g in GROUPS},
        "pipeline: Dagster fixed overhead": pipeline.seconds - steps.total,
    }
    row["total"] = init.seconds + sim.seconds + pipeline.seconds
    shutil.rmtree(root, ignore_errors=True)
    return row


def measure(args) -> tuple[list[Measurement], dict]:
    scratch = Path(tempfile.mkdtemp(prefix="bibbla-e2e-"))
    reports = not args.no_reports
    context: dict = {"reports": reports}
    rows = []
    try:
        for number in range(args.runs):
            print(f"end to end: round {number + 1}/{args.runs}", flush=True)
            try:
                rows.append(one_run(scratch / f"run{number}", args, reports))
            except CommandFailed as error:
                if not reports:
                    raise
                # the report site is the one step with outside moving parts (Node.js);
                # measure the rest rather than nothing, and say so
                print(f"end to end: the run with reports failed; without them ({error})")
                context["reports_failed"] = str(error)[-2000:]
                reports = False
                context["reports"] = False
                rows.append(one_run(scratch / f"run{number}-noreports", args, reports))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    col = {key: [r[key] for r in rows] for key in rows[0]}
    results = [Measurement("end to end (make demo)", "s", col["total"])]
    for key in col:
        if key in ("total", "pipeline peak MB"):
            continue
        if key.startswith("pipeline: ") and not any(col[key]):
            continue
        results.append(Measurement(f"{key} / whole run", "share", ratio(col[key], col["total"])))
    results.append(Measurement("pipeline peak memory", "MB", col["pipeline peak MB"]))
    slowest = max(
        (k for k in col if k not in ("total", "pipeline", "pipeline peak MB")),
        key=lambda k: sorted(col[k])[len(col[k]) // 2],
    )
    context.update(
        {
            "rounds": [{k: round(v, 2) for k, v in r.items()} for r in rows],
            "slowest_step": slowest,
            "runs": args.runs,
        }
    )
    return results, context


def main(argv: list[str] | None = None) -> list[Measurement]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--start", default="2024-01-01")
    parser.add_argument("--end", default="2026-10-31")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-reports", action="store_true")
    args = parser.parse_args(argv)
    results, context = measure(args)
    path = write_results("end_to_end", results, {**vars(args), **context})
    print(
        format_table(
            f"make demo end to end, {args.start}..{args.end} at scale {args.scale} "
            f"({args.runs} runs); slowest step: {context['slowest_step']}",
            results,
        )
    )
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
