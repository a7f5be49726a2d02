"""`bibbla scenario run|compare`: what if more municipalities join the consortium.

A scenario is a membership timeline: today's (`reference/municipalities.csv`) with join
dates added or changed (`--join KOD=DATE`, or `[join]` in `scenarios/NAME.toml`). The
baseline is the scenario with today's timeline. Each scenario is run once per seed through
the same steps as the real data, each in a process of its own and in a data folder of its
own, `data/scenarios/NAME/seed-N/` (`BIBBLA_DATA_DIR`): `bibbla simulate
--membership-file` fills a lending-core database through the lending core's rules, `bibbla
ingest` lands it, `bibbla warehouse build` builds its warehouse. The run's
`mart_scenario_run_year` is then exported beside it (`run_year.parquet`), and `bibbla
scenario compare` builds `mart_scenario_comparison` from every export into the main
warehouse, which the reports read (page Scenarier). The same seed, scale and period in the
baseline and a scenario: the differences come from the membership rules alone.

Options after the known ones (or after `--`) go to `bibbla simulate` as they are, e.g. an
option that changes the simulation further (`bibbla scenario run NAME -- --OPTION VALUE`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from bibbla.config import PROJECT_ROOT, Settings, get_settings
from bibbla.processes import run_streaming

SCENARIOS_DIR = PROJECT_ROOT / "scenarios"  # scenario definitions (TOML), edited by people
BASELINE = "baseline"
EXPORT_FILE = "run_year.parquet"  # what mart_scenario_comparison reads (macros/scenario_runs.sql)
MOVES_FILE = "advised_moves.csv"  # --apply-advice: the baseline's advice the run made
ADVICE_CHECK_FILE = "advice_check.json"  # --apply-advice: predicted against simulated
# ... and the same beside run_year.parquet, for mart_scenario_advice_check
ADVICE_CHECK_EXPORT = "advice_check.parquet"
DEFAULT_SEEDS = [42, 43, 44]  # at least three: the spread over seeds is part of the answer

Log = Callable[[str], None]


class ScenarioError(ValueError):
    """A scenario cannot be set up or run; the message says why."""


@dataclass(frozen=True)
class Scenario:
    name: str
    joins: dict[str, date] = field(default_factory=dict)
    description: str = ""


def _valid_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_" for c in name) or name[0] in "-_":
        raise ScenarioError(
            f"scenario name {name!r}: use letters, digits, '-' and '_' (it names a folder)"
        )
    return name


def parse_join(text: str) -> tuple[str, date]:
    """'1862=2025-07-01' -> ('1862', date(2025, 7, 1))."""
    code, sep, when = text.partition("=")
    if not sep or not code.strip():
        raise ScenarioError(f"--join {text!r}: expected KOD=YYYY-MM-DD, e.g. 1862=2025-07-01")
    try:
        return code.strip(), date.fromisoformat(when.strip())
    except ValueError:
        raise ScenarioError(f"--join {text!r}: {when!r} is not a date (YYYY-MM-DD)") from None


def load_scenario(name: str, joins: list[str], scenarios_dir: Path = SCENARIOS_DIR) -> Scenario:
    """The scenario NAME: the joins given, else those of scenarios/NAME.toml, else none
    (today's timeline). The baseline is today's timeline and takes no joins."""
    _valid_name(name)
    definition = scenarios_dir / f"{name}.toml"
    if joins:
        parsed = dict(parse_join(j) for j in joins)
        description = ""
    elif definition.is_file():
        try:
            data = tomllib.loads(definition.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError(f"{definition}: {error}") from None
        description = str(data.get("description", ""))
        parsed = {}
        for code, when in (data.get("join") or {}).items():
            if not isinstance(when, date):
                raise ScenarioError(f"{definition}: join.{code} = {when!r} is not a date")
            parsed[str(code)] = when
    else:
        parsed, description = {}, ""
    if name == BASELINE and parsed:
        raise ScenarioError("the baseline is today's timeline: give another name to a change")
    return Scenario(name, parsed, description)


def write_timeline(reference_dir: Path, scenario: Scenario, target: Path) -> Path:
    """municipalities.csv with the scenario's join dates: the membership timeline that
    `bibbla simulate --membership-file` takes."""
    source = reference_dir / "municipalities.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, fields = list(reader), list(reader.fieldnames or [])
    known = {row["municipality_code"]: row for row in rows}
    unknown = sorted(set(scenario.joins) - set(known))
    if unknown:
        raise ScenarioError(
            f"--join: unknown municipality {', '.join(unknown)} (codes of {source.name}: "
            f"{', '.join(sorted(known))})"
        )
    for code, when in scenario.joins.items():
        row = known[code]
        was = row.get("consortium_joined_on") or "never"
        row["consortium_joined_on"] = when.isoformat()
        row["join_note"] = f"scenario {scenario.name}: joins {when.isoformat()} (was {was})"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


def scenarios_root(settings: Settings) -> Path:
    return settings.data_dir / "scenarios"


def run_folder(settings: Settings, name: str, seed: int) -> Path:
    return scenarios_root(settings) / _valid_name(name) / f"seed-{seed}"


def _bibbla() -> list[str]:
    beside = Path(sys.executable).with_name("bibbla")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "bibbla.cli"]


def run_environment(folder: Path) -> dict[str, str]:
    """The steps' environment: everything in the run's own data folder (lending core,
    landing, warehouse, demo pseudonym key), whatever the paths set for the real data."""
    env = dict(os.environ)
    for name in ("BIBBLA_OPERATIONAL_DB", "BIBBLA_LANDING", "BIBBLA_WAREHOUSE"):
        env.pop(name, None)
    env["BIBBLA_DATA_DIR"] = str(folder)
    env.setdefault("BIBBLA_ENV", "demo")
    return env


@dataclass
class RunResult:
    folder: Path
    seconds: dict[str, float]


def run_scenario(
    settings: Settings,
    scenario: Scenario,
    seed: int,
    *,
    scale: float,
    start: date,
    end: date,
    simulate_options: list[str] = (),
    apply_advice: date | None = None,
    log: Log = print,
) -> RunResult:
    """Simulate, land and build one seed of a scenario in a new data folder, and export
    its mart_scenario_run_year. With `apply_advice` (a date), the collection balancing
    advice of the baseline run of the same seed, given on the day before, is made in this
    run on that date, and its expected saving of hold waits is checked against the
    simulated one (advice_check.json)."""
    if not 0 < scale <= 1:
        raise ScenarioError("--scale must be in (0, 1]")
    if end < start:
        raise ScenarioError("--end is before --start")
    baseline = advice_day = None
    if apply_advice is not None:
        baseline = _baseline_for_advice(settings, scenario, seed, scale, start, end, apply_advice)
        # The advice as the baseline's data gave it on the eve of the moves.
        advice_day = apply_advice - timedelta(days=1)
    folder = run_folder(settings, scenario.name, seed)
    if folder.exists():
        shutil.rmtree(folder)  # a run is made anew: same seed, same data
    folder.mkdir(parents=True)
    timeline = write_timeline(settings.reference_dir, scenario, folder / "membership.csv")
    env = run_environment(folder)
    bibbla = _bibbla()
    moves = folder / MOVES_FILE
    advice_options = [] if apply_advice is None else [
        "--collection-moves", str(moves), "--moves-on", apply_advice.isoformat(),
    ]  # fmt: skip
    # (step, command, environment): each step a process of its own.
    steps: list[tuple[str, list[str], dict[str, str]]] = []
    if baseline is not None:
        steps.append((
            "advice", [
                *bibbla, "warehouse", "advice-export", "--out", str(moves),
                "--as-of", advice_day.isoformat(),
            ], run_environment(baseline),
        ))  # fmt: skip
    steps += [
        ("simulate", [
            *bibbla, "simulate", "--seed", str(seed), "--scale", str(scale),
            "--start", start.isoformat(), "--end", end.isoformat(),
            "--membership-file", str(timeline), *advice_options, *simulate_options,
        ], env),
        ("ingest", [*bibbla, "ingest"], env),
        ("warehouse", [*bibbla, "warehouse", "build"], env),
    ]  # fmt: skip
    if baseline is not None:
        steps.append((
            "advice-check", [
                *bibbla, "warehouse", "advice-check",
                "--baseline", str(baseline / "warehouse.duckdb"),
                "--rerun", str(folder / "warehouse.duckdb"),
                "--moves", str(moves), "--moves-on", apply_advice.isoformat(),
                "--out", str(folder / ADVICE_CHECK_FILE),
            ], env,
        ))  # fmt: skip
    seconds: dict[str, float] = {}
    with (folder / "run.log").open("w", encoding="utf-8") as run_log:

        def both(line: str) -> None:
            run_log.write(line + "\n")
            log(line)

        for step, command, step_env in steps:
            both(f"==> {scenario.name} seed {seed}: {step}")
            began = time.perf_counter()
            code, tail = run_streaming(command, PROJECT_ROOT, step_env, both)
            seconds[step] = round(time.perf_counter() - began, 1)
            if code != 0:
                raise ScenarioError(
                    f"{scenario.name} seed {seed}: `bibbla {step}` failed (exit {code}); "
                    f"its output is in {folder / 'run.log'}:\n{tail}"
                )
            if step == "advice" and not _has_moves(moves):
                raise ScenarioError(
                    f"{scenario.name} seed {seed}: the baseline's advice on "
                    f"{advice_day} has no moves (no copy idle where "
                    "the van keeps bringing the title): nothing to apply; try a later date "
                    "or a larger --scale"
                )
    began = time.perf_counter()
    export_run(folder, scenario.name, seed, scale, start, end)
    seconds["export"] = round(time.perf_counter() - began, 1)
    (folder / "scenario.json").write_text(
        json.dumps(
            {
                "scenario": scenario.name,
                "description": scenario.description,
                "joins": {code: when.isoformat() for code, when in scenario.joins.items()},
                "seed": seed,
                "scale": scale,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "simulate_options": list(simulate_options),
                "apply_advice": apply_advice.isoformat() if apply_advice else None,
                "seconds": seconds,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return RunResult(folder, seconds)


def _has_moves(moves_file: Path) -> bool:
    with moves_file.open(encoding="utf-8", newline="") as handle:
        return next(csv.DictReader(handle), None) is not None


def _baseline_for_advice(
    settings: Settings,
    scenario: Scenario,
    seed: int,
    scale: float,
    start: date,
    end: date,
    moves_on: date,
) -> Path:
    """The baseline run whose advice a run with --apply-advice makes: the same seed,
    scale and period, already run (its warehouse gives the advice)."""
    if scenario.name == BASELINE:
        raise ScenarioError(
            "--apply-advice: the baseline is what the advice is taken from; give the run "
            "with the advice another name, e.g. `bibbla scenario run rad --apply-advice DATE`"
        )
    if not start < moves_on <= end:
        raise ScenarioError(
            f"--apply-advice {moves_on}: the moves must fall after --start ({start}) and "
            f"on or before --end ({end}), so the advice has data before them"
        )
    baseline = run_folder(settings, BASELINE, seed)
    described = baseline / "scenario.json"
    if not described.is_file() or not (baseline / "warehouse.duckdb").is_file():
        raise ScenarioError(
            f"--apply-advice: no baseline run for seed {seed} in {baseline}; run "
            f"`bibbla scenario run {BASELINE} --seed {seed} --scale {scale} "
            f"--start {start} --end {end}` first"
        )
    ran = json.loads(described.read_text(encoding="utf-8"))
    wanted = {"scale": scale, "start": start.isoformat(), "end": end.isoformat()}
    differs = {k: ran.get(k) for k, v in wanted.items() if ran.get(k) != v}
    if differs:
        raise ScenarioError(
            f"--apply-advice: the baseline run for seed {seed} was made with {differs}, "
            f"this run asks for {wanted}: run the baseline again with the same settings"
        )
    return baseline


def export_run(folder: Path, name: str, seed: int, scale: float, start: date, end: date) -> Path:
    """The run's mart_scenario_run_year with the run's name, seed and period, as Parquet
    beside its warehouse (the folder layout macros/scenario_runs.sql reads)."""
    import duckdb

    warehouse = folder / "warehouse.duckdb"
    target = folder / EXPORT_FILE
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute(
            f"""
            copy (
                select ? as scenario, cast(? as bigint) as seed, cast(? as double) as scale,
                       cast(? as date) as start_date, cast(? as date) as end_date, run.*
                from main.mart_scenario_run_year as run
            ) to '{str(target).replace("'", "''")}' (format parquet)
            """,
            [name, seed, scale, start.isoformat(), end.isoformat()],
        )
    check = folder / ADVICE_CHECK_FILE
    if check.is_file():
        _export_advice_check(check, folder / ADVICE_CHECK_EXPORT, name, seed, scale, start, end)
    return target


def _export_advice_check(
    check: Path, target: Path, name: str, seed: int, scale: float, start: date, end: date
) -> None:
    """advice_check.json with the run's name, seed and period, as one Parquet row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    figures = json.loads(check.read_text(encoding="utf-8"))
    row = {
        "scenario": name,
        "seed": seed,
        "scale": scale,
        "start_date": start,
        "end_date": end,
        **figures,
        "moves_on": date.fromisoformat(figures["moves_on"]),
        "until": date.fromisoformat(figures["until"]),
    }
    pq.write_table(pa.Table.from_pylist([row]), target)


def compare(settings: Settings, log: Log = print) -> None:
    """Build mart_scenario_comparison (and what it reads) from every exported run into the
    main warehouse."""
    if not settings.warehouse_path.is_file():
        raise ScenarioError(
            f"{settings.warehouse_path} does not exist: the comparison is built into the main "
            "warehouse the reports read; run `make demo` (or the pipeline) first"
        )
    exports = sorted(scenarios_root(settings).glob(f"*/seed-*/{EXPORT_FILE}"))
    log(f"comparing {len(exports)} exported scenario runs")
    command = [
        *_bibbla(), "warehouse", "build",
        "--select", "stg_scenario__run_year+", "stg_scenario__advice_check+",
    ]  # fmt: skip
    code, tail = run_streaming(command, PROJECT_ROOT, dict(os.environ), log)
    if code != 0:
        raise ScenarioError(f"building mart_scenario_comparison failed (exit {code}):\n{tail}")


app = typer.Typer(
    help="What-if scenarios: the consortium simulated with another membership timeline.",
    no_args_is_help=True,
)


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Scenario name ('baseline': today's timeline).")],
    join: Annotated[
        list[str] | None,
        typer.Option(
            "--join", help="KOD=YYYY-MM-DD: the municipality joins on that date (repeatable)."
        ),
    ] = None,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Random seed (repeatable; default 42 43 44).")
    ] = None,
    scale: Annotated[float, typer.Option(help="Share of the real population simulated.")] = 0.1,
    start: Annotated[str, typer.Option(help="First simulated day (YYYY-MM-DD).")] = "2025-01-01",
    end: Annotated[str, typer.Option(help="Last simulated day (YYYY-MM-DD).")] = "2026-06-30",
    apply_advice: Annotated[
        str | None,
        typer.Option(
            "--apply-advice",
            help="YYYY-MM-DD: make the collection balancing advice of the baseline run (same "
            "seed, given the day before) on this date, and check its expected saving of "
            "hold waits against the simulated one (advice_check.json).",
        ),
    ] = None,
) -> None:
    """Run a scenario once per seed into data/scenarios/NAME/seed-N/ (lending core, landing,
    warehouse, run_year.parquet). Other options go to `bibbla simulate` as they are."""
    settings = get_settings()
    try:
        scenario = load_scenario(name, join or [])
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        moves_on = date.fromisoformat(apply_advice) if apply_advice else None
    except (ScenarioError, ValueError) as error:
        raise _fail(error) from None
    joins = ", ".join(f"{c} {d}" for c, d in scenario.joins.items()) or "today's timeline"
    typer.echo(f"scenario {scenario.name} ({joins}); simulated data, scale {scale}", err=True)
    for one_seed in seed or DEFAULT_SEEDS:
        try:
            result = run_scenario(
                settings,
                scenario,
                one_seed,
                scale=scale,
                start=first,
                end=last,
                simulate_options=list(ctx.args),
                apply_advice=moves_on,
                log=lambda line: typer.echo(line, err=True),
            )
        except ScenarioError as error:
            raise _fail(error) from None
        total = sum(result.seconds.values())
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
        typer.echo(f"{scenario.name} seed {one_seed}: {result.folder} in {total:.0f} s ({steps})")
        if moves_on is not None:
            typer.echo(_advice_summary(result.folder / ADVICE_CHECK_FILE))


def _advice_summary(check_file: Path) -> str:
    """One line: the advice's predicted saving of hold waits against the simulated one."""
    check = json.loads(check_file.read_text(encoding="utf-8"))
    ratio = check.get("ratio")
    return (
        f"  advice: {check['moves']} moves ({check['copies_moved']} copies moved); hold wait "
        f"days saved on the moved titles {check['moves_on']} to {check['until']}: predicted "
        f"{check['predicted_wait_days_saved']:.0f}, simulated "
        f"{check['simulated_wait_days_saved']:.0f}, ratio "
        + ("-" if ratio is None else f"{ratio:.2f}")
    )


@app.command("compare")
def compare_command() -> None:
    """Build mart_scenario_comparison in the main warehouse from every scenario run."""
    try:
        compare(get_settings(), log=lambda line: typer.echo(line, err=True))
    except ScenarioError as error:
        raise _fail(error) from None
