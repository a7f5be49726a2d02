"""Benchmark: the work of one nightly run against a full rebuild of the same history.

    .venv/bin/python -m benchmarks.nightly [--years 3] [--scale 0.05] [--runs 3]
                                           [--daily-runs 7] [--start 2024-03-01]
                                           [--compare-years 1]

A history of `--years` years is simulated at `--scale` and landed: the first part by one
ingestion run, the last `--daily-runs` days one day and one ingestion run at a time, as
the nightly runs land them (the slowly changing tables as a change history: the state
once, then each day's changes); the warehouse is built. The landing's size is reported
(`lab.landing_size`): files, rows and bytes of the histories, and the rows the same as-of
dates held as daily copies, the layout before the history. Then, `--runs` times, from a
copy of that state: one more day is simulated (the lending core's day, not measured) and

- **nightly**: `bibbla ingest` (the new day's events and the changes of the slowly
  changing tables; the rows it landed are reported next to the day's events) + `bibbla
  warehouse build` (dbt build: the incremental facts take the new events, the period
  aggregates recompute the years touched, every other table is rebuilt; the data tests of
  the history tables, the event feed, the facts and the aggregates look only at what is
  new or rebuilt, every other test runs) - what the nightly run does, without Dagster;
- **full**: `bibbla ingest --full-refresh` (land the whole history again) + `bibbla
  warehouse build --full-refresh` on the same landing (every fact rebuilt from scratch);
- **incremental models alone** (unless `--no-facts-alone`, as `make bench` runs it):
  `dbt build -s fct_loans fct_holds fct_transports`, the three facts and their tests,
  incrementally and with `--full-refresh`;
- **Dagster** (unless `--no-dagster`, as `make bench` runs it; end_to_end reports the same
  overhead there): `bibbla pipeline run --no-reports` on the same new day; its steps' times
  come from the run's event log, and what is left of the process's wall time is Dagster's
  fixed run overhead, reported on its own.

Every child is a fresh process (as the nightly run is), so interpreter start-up and dbt's
parsing are in every figure. Each dbt build is also split, from dbt's run_results.json,
into its fixed cost (the process's wall time outside dbt's node execution: interpreter,
imports, parsing, hooks, plus dbt's own time between nodes) and the node execution
(models, data tests, unit tests), and the full rebuild's five slowest models are reported
(the profile of what grows). With `--compare-years Y` a second history of Y years (same
scale, same calendar day at its end) gets the same nightly rounds, for the nightly run's
peak memory and time at Y against `--years` years of history.

The history starts on `--start` (default 1 March), so the measured nights fall on the same
calendar day for any whole number of years and not at the turn of a year: the period
aggregates rebuild the years a night touched (dbt_project/macros/period_incremental.sql),
one year on most nights, and the year before as well in early January.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import Measurement, format_table, ratio, write_results
from benchmarks.dagster_steps import last_run_steps
from benchmarks.lab import Lab, landed_by_last_snapshot_run, landing_size

START = date(2024, 3, 1)
# the three incremental facts (the period aggregates are incremental too, but read them)
INCREMENTAL = ("-s", "fct_loans", "fct_holds", "fct_transports")


def dbt_split(lab: Lab, seconds: float) -> dict[str, float]:
    """One dbt build's time split by its run_results.json (in the lab's dbt target):
    node execution by kind, and the rest of the process's wall time (the fixed cost)."""
    results = json.loads((lab.root / "dbt-target" / "run_results.json").read_text())
    kinds: dict[str, float] = {"model": 0.0, "test": 0.0, "unit_test": 0.0, "seed": 0.0}
    for result in results["results"]:
        kind = result["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0.0) + float(result.get("execution_time") or 0.0)
    # dbt runs up to 4 nodes at once: their times overlap, so the fixed cost is the wall
    # time outside dbt's run of the nodes, and the nodes' share is the run's elapsed time
    elapsed = float(results.get("elapsed_time") or 0.0)
    return {
        "dbt_elapsed": elapsed,
        "fixed": max(0.0, seconds - elapsed),
        **{f"nodes: {kind}": round(value, 2) for kind, value in kinds.items()},
    }


def slowest_models(lab: Lab, count: int = 5) -> list[tuple[str, float]]:
    """The `count` models that took longest in the lab's last dbt build."""
    results = json.loads((lab.root / "dbt-target" / "run_results.json").read_text())
    models = [
        (r["unique_id"].split(".")[-1], round(float(r.get("execution_time") or 0.0), 2))
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    ]
    return sorted(models, key=lambda model: -model[1])[:count]


def prepare(
    root: Path,
    years: float,
    scale: float,
    runs: int,
    daily_runs: int,
    dagster: bool,
    start: date = START,
) -> tuple[Lab, dict]:
    lab = Lab(root)
    lab.root.mkdir(parents=True)
    days = round(365.25 * years)
    end = start + timedelta(days=days + runs + 5)
    lab.init()
    daily_runs = max(0, min(daily_runs, days - 1))
    # stop after `days` days: the simulation resumes one day at a time from there
    sim = lab.bibbla(
        "simulate", "--start", start.isoformat(), "--end", end.isoformat(),
        "--scale", str(scale), "--seed", "42", "--days", str(days - daily_runs),
    )  # fmt: skip
    print(f"nightly: simulated {days} days at scale {scale} in {sim.seconds:.0f} s", flush=True)
    ingest = lab.ingest()
    daily = []
    for _ in range(daily_runs):
        lab.simulate_more(1)
        events = _landed_events(lab.landing)
        lab.ingest()
        landed = landed_by_last_snapshot_run(lab.landing)
        daily.append(
            {"events": _landed_events(lab.landing) - events, "history_rows": sum(landed.values())}
        )
    size = landing_size(lab.landing)
    print(
        f"nightly: landing holds {size['total']['rows']} history rows in "
        f"{size['total']['files']} files ({size['total']['bytes'] / 2**20:.1f} MB); as daily "
        f"copies of the same {size['total']['as_of_dates']} as-of dates: "
        f"{size['total']['rows_as_daily_copies']} rows",
        flush=True,
    )
    build = lab.build()
    print(
        f"nightly: first build {build.seconds:.0f} s, peak {build.peak_rss_mb:.0f} MB", flush=True
    )
    # DAGSTER_HOME and the dbt manifest, once
    warm = lab.bibbla("pipeline", "prepare") if dagster else None
    events = _landed_events(lab.landing)
    context = {
        "years": years,
        "scale": scale,
        "history_days": days,
        "events_in_history": events,
        "daily_runs": daily,
        "landing_size": size,
        "prepare_seconds": {
            "simulate": round(sim.seconds, 1),
            "ingest": round(ingest.seconds, 1),
            "build": round(build.seconds, 1),
            "build_peak_mb": round(build.peak_rss_mb),
            **({"pipeline_prepare": round(warm.seconds, 1)} if warm else {}),
        },
    }
    return lab, context


def _landed_events(landing: Path) -> int:
    import duckdb

    return duckdb.sql(
        f"select count(*) from read_parquet('{landing}/circulation_event/*/*.parquet')"
    ).fetchone()[0]


def one_run(
    base: Lab, folder: Path, facts_alone: bool, dagster: bool, full: bool = True
) -> dict[str, float]:
    """One round: a new day, its nightly run and (unless not `full`) a full rebuild."""
    day = base.copy_to(folder / "day")
    day.simulate_more(1)
    new_events = _landed_events(day.landing)
    size_before = landing_size(day.landing)["total"]
    dag = day.copy_to(folder / "dagster") if dagster else None
    full_lab = day.copy_to(folder / "full-ingest") if full else None

    nightly_ingest = day.ingest()
    landed = landed_by_last_snapshot_run(day.landing)
    size_after = landing_size(day.landing)["total"]
    incremental = day.copy_to(folder / "incremental") if facts_alone else None
    nightly_build = day.build()
    nightly_parts = dbt_split(day, nightly_build.seconds)
    measured: dict[str, float] = {
        "nightly_build": nightly_build.seconds,
        "nightly_build_peak_mb": nightly_build.peak_rss_mb,
        **{f"nightly build {part}": value for part, value in nightly_parts.items()},
    }
    if full_lab is None:
        landed_events = _landed_events(day.landing) - new_events
        for lab in (day, dag):
            if lab is not None:
                shutil.rmtree(lab.root, ignore_errors=True)
        return {"new_events": landed_events, "nightly_ingest": nightly_ingest.seconds, **measured}
    full_build_lab = day.copy_to(folder / "full-build")
    full_build = full_build_lab.build("--full-refresh")
    full_parts = dbt_split(full_build_lab, full_build.seconds)
    slowest = slowest_models(full_build_lab)
    full_ingest = full_lab.ingest("--full-refresh")
    facts = {}
    if incremental is not None:
        facts["incremental_models"] = incremental.build(*INCREMENTAL).seconds
        facts["incremental_models_full_refresh"] = full_build_lab.build(
            *INCREMENTAL, "--full-refresh"
        ).seconds

    orchestrated = {}
    if dag is not None:
        pipeline = dag.pipeline("--no-reports")
        steps = last_run_steps(dag.root / "dagster_home")
        orchestrated = {
            "dagster_wall": pipeline.seconds,
            "dagster_steps": steps.total,
            "dagster_overhead": pipeline.seconds - steps.total,
            **{f"dagster step group: {k}": v for k, v in steps.grouped().items()},
        }
    new_events = _landed_events(day.landing) - new_events
    for lab in (day, dag, full_lab, incremental, full_build_lab):
        if lab is not None:
            shutil.rmtree(lab.root, ignore_errors=True)
    return {
        "new_events": new_events,
        "history_rows_landed": sum(landed.values()),
        **{f"history rows landed: {table}": rows for table, rows in landed.items()},
        "landing_history_rows_before": size_before["rows"],
        "landing_history_rows_after": size_after["rows"],
        "landing_history_bytes_before": size_before["bytes"],
        "landing_history_bytes_after": size_after["bytes"],
        "landing_rows_as_daily_copies_after": size_after["rows_as_daily_copies"],
        "nightly_ingest": nightly_ingest.seconds,
        **measured,
        "full_ingest": full_ingest.seconds,
        "full_build": full_build.seconds,
        "full_build_peak_mb": full_build.peak_rss_mb,
        **{f"full build {part}": value for part, value in full_parts.items()},
        **{f"full build slowest model {n + 1}: {name}": t for n, (name, t) in enumerate(slowest)},
        **facts,
        **orchestrated,
    }


def measure(args) -> tuple[list[Measurement], dict]:
    root = Path(tempfile.mkdtemp(prefix="bibbla-nightly-"))
    try:
        base, context = prepare(
            root / "base", args.years, args.scale, args.runs, args.daily_runs, args.dagster,
            args.start,
        )  # fmt: skip
        short = None
        if args.compare_years:
            short, short_context = prepare(
                root / "short", args.compare_years, args.scale, args.runs, args.daily_runs,
                False, args.start,
            )  # fmt: skip
            context["compare_history"] = short_context
        rounds, short_rounds = [], []
        for number in range(args.runs):
            print(f"nightly: round {number + 1}/{args.runs}", flush=True)
            rounds.append(one_run(base, root / f"run{number}", args.facts_alone, args.dagster))
            if short is not None:
                # the same new day on the shorter history, right after (the same load)
                short_rounds.append(
                    one_run(short, root / f"short{number}", False, False, full=False)
                )
            # written after every round, so a long run stopped early keeps what it measured
            raw = Path(__file__).parent / "results" / "nightly-rounds.json"
            raw.parent.mkdir(exist_ok=True)
            raw.write_text(json.dumps({"rounds": rounds, "compare_rounds": short_rounds}))
            results, partial = summarise(rounds, context, args, short_rounds)
            write_results("nightly", results, {**vars(args), **partial})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return summarise(rounds, context, args, short_rounds)


def summarise(
    rounds: list[dict], context: dict, args, short_rounds: list[dict] | None = None
) -> tuple[list[Measurement], dict]:
    """The ratios over the rounds measured so far."""
    col = {key: [r.get(key, 0.0) for r in rounds] for key in rounds[0]}
    nightly = [a + b for a, b in zip(col["nightly_ingest"], col["nightly_build"], strict=True)]
    full = [a + b for a, b in zip(col["full_ingest"], col["full_build"], strict=True)]
    # what grows with the data: each run without its dbt build's fixed cost
    nightly_grows = [a - b for a, b in zip(nightly, col["nightly build fixed"], strict=True)]
    full_grows = [a - b for a, b in zip(full, col["full build fixed"], strict=True)]
    y = f"{args.years:g} y"
    compared = []
    if short_rounds:
        short = {key: [r.get(key, 0.0) for r in short_rounds] for key in short_rounds[0]}
        n = len(short_rounds)
        cy = f"{args.compare_years:g} y"
        compared = [
            Measurement(
                f"nightly build peak memory, {y} / {cy} of history",
                "ratio (target <= 1.2)",
                ratio(col["nightly_build_peak_mb"][:n], short["nightly_build_peak_mb"]),
            ),
            Measurement(
                f"nightly build time, {y} / {cy} of history",
                "ratio",
                ratio(col["nightly_build"][:n], short["nightly_build"]),
            ),
            Measurement(f"nightly build peak memory ({cy})", "MB", short["nightly_build_peak_mb"]),
            Measurement(f"nightly build ({cy})", "s", short["nightly_build"]),
        ]
    results = [
        Measurement(
            f"nightly / full rebuild ({y})", "ratio (target <= 0.10)", ratio(nightly, full)
        ),
        Measurement(
            "nightly / full rebuild, both without dbt's fixed cost",
            "ratio",
            ratio(nightly_grows, full_grows),
        ),
        Measurement(
            "nightly dbt build: fixed cost (start, parse, hooks)",
            "s",
            col["nightly build fixed"],
        ),
        Measurement(
            "nightly dbt build: node execution (dbt elapsed)",
            "s",
            col["nightly build dbt_elapsed"],
        ),
        Measurement("full dbt build: fixed cost", "s", col["full build fixed"]),
        Measurement(
            "full dbt build: node execution (dbt elapsed)", "s", col["full build dbt_elapsed"]
        ),
        *compared,
        Measurement(
            "nightly ingest / full ingest",
            "ratio",
            ratio(col["nightly_ingest"], col["full_ingest"]),
        ),
        Measurement(
            "nightly dbt build / full-refresh build",
            "ratio",
            ratio(col["nightly_build"], col["full_build"]),
        ),
        *(
            [
                Measurement(
                    "Dagster fixed overhead / Dagster run",
                    "ratio",
                    ratio(col["dagster_overhead"], col["dagster_wall"]),
                ),
                Measurement(
                    "Dagster run / direct nightly", "ratio", ratio(col["dagster_wall"], nightly)
                ),
                Measurement("Dagster fixed overhead", "s", col["dagster_overhead"]),
            ]
            if args.dagster
            else []
        ),
        *(
            [
                Measurement(
                    "incremental facts: nightly / full refresh",
                    "ratio",
                    ratio(col["incremental_models"], col["incremental_models_full_refresh"]),
                )
            ]
            if args.facts_alone
            else []
        ),
        Measurement(
            "history rows landed by a nightly run / that day's events",
            "ratio",
            ratio(col["history_rows_landed"], col["new_events"]),
        ),
        Measurement("history rows landed by a nightly run", "rows", col["history_rows_landed"]),
        Measurement("events of that day", "rows", col["new_events"]),
        Measurement(
            "landing history rows / the same as-of dates as daily copies",
            "ratio",
            ratio(col["landing_history_rows_after"], col["landing_rows_as_daily_copies_after"]),
        ),
        Measurement("nightly (ingest + build)", "s", nightly),
        Measurement("full rebuild (ingest + build)", "s", full),
        Measurement("nightly build peak memory", "MB", col["nightly_build_peak_mb"]),
        Measurement("full build peak memory", "MB", col["full_build_peak_mb"]),
    ]
    context = {
        **context,
        "rounds": [{k: round(v, 3) for k, v in r.items()} for r in rounds],
        "compare_rounds": [{k: round(v, 3) for k, v in r.items()} for r in short_rounds or []],
        "runs": len(rounds),
    }
    return results, context


def main(argv: list[str] | None = None) -> list[Measurement]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=START,
        help="the first simulated day (the measured nights fall on its calendar day)",
    )
    parser.add_argument(
        "--compare-years",
        type=float,
        default=0.0,
        help="also run the nightly rounds on a history this long (peak memory 1 vs 3 years)",
    )
    parser.add_argument(
        "--daily-runs",
        type=int,
        default=7,
        help="the last days of the history landed one ingestion run a day (the rest by one)",
    )
    parser.add_argument(
        "--dagster",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the same nightly through Dagster (its fixed overhead on its own)",
    )
    parser.add_argument(
        "--facts-alone",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the three incremental facts alone, nightly and full refresh",
    )
    args = parser.parse_args(argv)
    results, context = measure(args)
    path = write_results("nightly", results, {**vars(args), **context})
    print(
        format_table(
            f"Nightly run vs full rebuild, {args.years:g} years at scale {args.scale} "
            f"({args.runs} runs)",
            results,
        )
    )
    for number, result in enumerate(context["rounds"]):
        slowest = {k.split(": ", 1)[1]: v for k, v in result.items() if "slowest model" in k}
        print(f"round {number + 1}: the full build's slowest models (s): {slowest}")
    print(f"results: {path}")
    print(json.dumps(context["prepare_seconds"]))
    return results


if __name__ == "__main__":
    main()
