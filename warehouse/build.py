"""Build the warehouse: the dbt-duckdb project in `dbt_project/`, from the landing to the marts.

`build_warehouse(settings)` is what the pipeline calls (after ingestion, before the reports);
`bibbla warehouse build|docs` (warehouse/cli.py) and `make warehouse` call the same
functions, and the pipeline's dbt step (orchestration/assets/warehouse.py) runs what
`plan_build` decides, as `build_warehouse` does. dbt runs inside this process
(warehouse/dbt_invocation.py), with the
two paths it needs taken from the settings and handed over as environment variables that
`dbt_project/profiles.yml` and the source definitions read (`BIBBLA_WAREHOUSE`,
`BIBBLA_LANDING`): no path is written twice.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import typer

from bibbla.config import PROJECT_ROOT, Settings, get_settings
from bibbla.processes import run_streaming
from warehouse.dbt_invocation import EventCallback, invoke_dbt

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

Log = Callable[[str], None]


class WarehouseBuildError(RuntimeError):
    """dbt could not build the warehouse; the message says why and what to do."""


def log_to_stderr(line: str) -> None:
    typer.echo(line, err=True)


def dbt_executable() -> str:
    """The `dbt` of this interpreter's environment (the locked one), else the one on PATH
    (for the commands that still run dbt as a child process: `docs serve`, the Spark and
    PostgreSQL targets of the tests and benchmarks)."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.is_file():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise WarehouseBuildError("dbt is not installed: run `make install`")
    return found


# The nightly test window (dbt_project/macros/test_window.sql): data tests on the snapshot
# staging views look only at partitions dated on or after this.
TESTS_SINCE_VARIABLE = "BIBBLA_TESTS_SINCE"
# Set when landed partitions were rewritten (the retention rule): the period aggregates
# rebuild every year, since a fact can then change without a new event
# (dbt_project/macros/period_incremental.sql).
REBUILD_ALL_PERIODS_VARIABLE = "BIBBLA_REBUILD_ALL_PERIODS"


def newest_tested_snapshot(warehouse: Path) -> date | None:
    """The newest snapshot date the warehouse was last built from (None before the first
    build): an incremental build tests the snapshot partitions from this date on, since
    the ones before it passed their tests in an earlier build and a landed partition never
    changes. mart_data_provenance only moves on a build that got that far, so partitions
    of a failed build are tested again."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            row = connection.execute(
                "select max(snapshot_as_of_date) from main.mart_data_provenance"
            ).fetchone()
    except duckdb.Error:  # not built (that far) yet: test everything
        return None
    return row[0] if row else None


# dbt's selector for the unit tests, left out of nightly builds (and of every build when the
# settings say so)
UNIT_TESTS_EXCLUDED = ("--exclude", "test_type:unit")


@dataclass(frozen=True)
class NightlyBuild:
    """What makes an incremental build on a built warehouse a nightly one, for both ways of
    running it (`build_warehouse` and the pipeline's dbt step): its snapshot tests start
    at `since`, and it leaves out dbt's unit tests, which check the SQL against fixed
    inputs, not the data, so they can only change when the project does (CI and every
    full build run them). `since` is None on a full refresh or a first build, and then
    nothing changes."""

    since: date | None

    @property
    def arguments(self) -> list[str]:
        return list(UNIT_TESTS_EXCLUDED) if self.since else []

    @property
    def environment(self) -> dict[str, str]:
        return {TESTS_SINCE_VARIABLE: self.since.isoformat()} if self.since else {}

    @property
    def description(self) -> str:
        return (
            f"testing the snapshot partitions from {self.since} on (the older ones passed "
            "in earlier builds); unit tests left to full builds and CI"
        )


def nightly_build(warehouse: Path, full_refresh: bool) -> NightlyBuild:
    """The nightly build's options for a build of `warehouse`; none on a full refresh."""
    return NightlyBuild(None if full_refresh else newest_tested_snapshot(warehouse))


MEMORY_LIMIT_VARIABLE = "BIBBLA_DUCKDB_MEMORY_LIMIT"
TEMP_DIRECTORY_VARIABLE = "BIBBLA_DUCKDB_TEMP_DIRECTORY"


def _spill_folder(settings: Settings) -> str:
    spill = settings.duckdb_spill_directory
    if spill.parent == settings.warehouse_path.parent:
        return spill.name
    return str(spill)


def dbt_environment(
    settings: Settings, *, target_path: Path | None = None, log_path: Path | None = None
) -> dict[str, str]:
    """The environment dbt runs in: the warehouse and landing paths from the settings.

    `target_path`/`log_path` move dbt's artefacts out of dbt_project/ (the tests use this, so
    a test run never rewrites the manifest another process is reading).
    """
    env = dict(os.environ)
    env.update(
        {
            "BIBBLA_WAREHOUSE": str(settings.warehouse_path),
            "BIBBLA_LANDING": str(settings.landing_path),
            # the scenario runs' exports that mart_scenario_comparison reads
            # (macros/scenario_runs.sql; bibbla/scenarios.py writes them)
            "BIBBLA_SCENARIOS": str(settings.data_dir / "scenarios"),
            # DuckDB works within this and spills beyond it (profiles.yml), so a larger
            # volume is slower instead of failing. The spill folder is named relative to
            # the warehouse's folder, dbt's working directory, unless set elsewhere: the
            # rendered profile stays the same from warehouse to warehouse (see below).
            MEMORY_LIMIT_VARIABLE: settings.duckdb_memory,
            TEMP_DIRECTORY_VARIABLE: _spill_folder(settings),
            "DBT_USE_COLORS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    # set per build by `build_warehouse` (nightly test window, rebuilt periods), never inherited
    env.pop(TESTS_SINCE_VARIABLE, None)
    env.pop(REBUILD_ALL_PERIODS_VARIABLE, None)
    if target_path is not None:
        env["DBT_TARGET_PATH"] = str(target_path)
    if log_path is not None:
        env["DBT_LOG_PATH"] = str(log_path)
    return env


# dbt's parsed project, kept between runs whatever their target folder: a build in a fresh
# target folder (every test, every benchmark lab) otherwise parses all 250 files again,
# 15-25 s here. dbt checks the saved state itself (its version, the profile, every file's
# hash, the environment variables each file reads) and parses again what changed, so a
# stale copy costs a parse, never a wrong build.
PARTIAL_PARSE_CACHE = PROJECT_ROOT / ".cache" / "dbt" / "partial_parse.msgpack"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The profile's DuckDB path (dbt_project/profiles.yml): the warehouse's file name, opened
# from its folder (the dbt process's working directory). dbt parses everything again when
# the profile changes, so an absolute path would throw the parsed state away for every
# warehouse but one.
DUCKDB_PATH_VARIABLE = "BIBBLA_DBT_DUCKDB_PATH"


def seed_parsed_project(target: Path, cache: Path = PARTIAL_PARSE_CACHE) -> None:
    """Give a dbt target folder without a parsed project the one kept in `cache`."""
    saved = target / PARTIAL_PARSE_FILE
    if not saved.exists() and cache.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, saved)


def keep_parsed_project(target: Path, cache: Path = PARTIAL_PARSE_CACHE) -> None:
    """Keep the project as dbt parsed it in `target` for the next run's new folder."""
    saved = target / PARTIAL_PARSE_FILE
    if not saved.is_file():
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    # written beside and renamed: a concurrent run reads the old copy or the new, never half
    scratch = cache.with_name(f"{cache.name}.{os.getpid()}")
    shutil.copyfile(saved, scratch)
    os.replace(scratch, cache)


def _target_folder(target_path: Path | None, env: dict[str, str]) -> Path:
    """The folder dbt writes its artefacts to: the one given, else DBT_TARGET_PATH (made
    absolute against the project, and so passed on), else the project's `target/`."""
    if target_path is not None:
        return target_path
    named = env.get("DBT_TARGET_PATH")
    if not named:
        return DBT_PROJECT_DIR / "target"
    folder = Path(named) if Path(named).is_absolute() else DBT_PROJECT_DIR / named
    env["DBT_TARGET_PATH"] = str(folder)
    return folder


def run_dbt(
    arguments: Sequence[str],
    settings: Settings,
    *,
    log: Log = log_to_stderr,
    target_path: Path | None = None,
    log_path: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    on_event: EventCallback | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    in_process: bool = True,
) -> None:
    """Run one dbt command on dbt_project/, passing each output line to `log` as it comes
    (and dbt's node results to `on_event`).

    In this process by default (warehouse/dbt_invocation.py says why and how it is fenced in);
    `in_process=False` starts a dbt process instead, for a command that runs until it is
    stopped (`dbt docs serve`). `project_dir` is a copy of the project to run instead
    (dagster-dbt writes one with a selector file for large selections).
    """
    arguments = without_unit_tests_if_off(arguments, settings)
    env = dbt_environment(settings, target_path=target_path, log_path=log_path)
    env.update(extra_env or {})
    warehouse_folder = settings.warehouse_path.parent
    warehouse_folder.mkdir(parents=True, exist_ok=True)
    env[DUCKDB_PATH_VARIABLE] = settings.warehouse_path.name
    target = _target_folder(target_path, env)
    seed_parsed_project(target)
    command = [
        *arguments,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    log(f"$ dbt {' '.join(arguments)}")
    if in_process:
        outcome = invoke_dbt(command, env=env, cwd=warehouse_folder, log=log, on_event=on_event)
        if not outcome.success:
            exception = str(outcome.exception or "")
            reason = f"\n  {exception}" if exception and exception not in outcome.tail else ""
            raise WarehouseBuildError(
                f"dbt {arguments[0]} failed; last output:\n{outcome.tail}{reason}"
            )
    else:
        code, last = run_streaming([dbt_executable(), *command], warehouse_folder, env, log)
        if code != 0:
            raise WarehouseBuildError(
                f"dbt {arguments[0]} failed (exit code {code}); last output:\n{last}"
            )
    keep_parsed_project(target)


def without_unit_tests_if_off(arguments: Sequence[str], settings: Settings) -> list[str]:
    """A `dbt build` with the unit tests left out when the settings turn them off (dbt adds
    up repeated --exclude options); other commands, and builds that already leave them
    out, as given."""
    arguments = list(arguments)
    if (
        settings.runs_dbt_unit_tests
        or not arguments
        or arguments[0] != "build"
        or UNIT_TESTS_EXCLUDED[1] in arguments
    ):
        return arguments
    return [*arguments, *UNIT_TESTS_EXCLUDED]


def landed_database_id(landing: Path) -> str | None:
    """Identity of the lending-core database in the landing (its newest snapshot manifest)."""
    manifests = landing / "snapshot_manifest"
    if not any(manifests.glob("*/*.parquet")):
        return None
    with duckdb.connect() as connection:
        row = connection.execute(
            "select database_id from read_parquet(?, hive_partitioning = true) "
            "order by date desc limit 1",
            [str(manifests / "*" / "*.parquet")],
        ).fetchone()
    return row[0] if row else None


def warehouse_database_id(warehouse: Path) -> str | None:
    """Identity of the lending-core database the warehouse's facts were built from."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            row = connection.execute("select min(database_id) from main.fct_loans").fetchone()
    except duckdb.Error:  # no facts yet (or not a warehouse): nothing to compare
        return None
    return row[0] if row else None


class NoEventsLanded(WarehouseBuildError):
    """The landing holds no circulation event: there is nothing to build a warehouse of."""


def _check_landing(landing: Path) -> None:
    if not any((landing / "circulation_event").glob("date=*/*.parquet")):
        raise NoEventsLanded(
            f"no circulation events landed under {landing}: run `bibbla ingest` after the "
            "lending core has some activity (LANDING.md, 'Before the first event')"
        )


@dataclass(frozen=True)
class BuildPlan:
    """What one `dbt build` of the warehouse runs, and why: decided by `plan_build` for both
    ways of running it (`build_warehouse` and the pipeline's dbt step)."""

    landing: Path
    warehouse: Path
    arguments: tuple[str, ...]
    full_refresh: bool
    # why the incremental facts are rebuilt from scratch when nobody asked for it
    full_refresh_reason: str | None
    nightly: NightlyBuild
    # the landing's old partitions were rewritten: every year of the period aggregates again
    rebuild_all_periods: bool = False

    @property
    def environment(self) -> dict[str, str]:
        """Variables dbt runs with (the nightly test window, the periods to rebuild), on
        top of `dbt_environment`."""
        rebuild = {REBUILD_ALL_PERIODS_VARIABLE: "1"} if self.rebuild_all_periods else {}
        return {**self.nightly.environment, **rebuild}

    @property
    def notes(self) -> list[str]:
        """What a person watching the build should be told about the plan."""
        notes = [self.full_refresh_reason] if self.full_refresh_reason else []
        if self.nightly.since:
            notes.append(self.nightly.description)
        return notes


def plan_build(
    settings: Settings,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    *,
    test_window: bool = True,
) -> BuildPlan:
    """The `dbt build` for the settings' landing and warehouse as they are now.

    Raises NoEventsLanded before the first event has landed. `select` narrows the build
    (dbt selection syntax). The incremental facts are rebuilt from scratch when
    `full_refresh` is set, and also, by themselves, when the landing now holds another
    lending-core database than the one they were built from (after `bibbla ingest
    --full-refresh`): event ids restart with a new database, so an incremental run would mix
    the two. An incremental build on a built warehouse is the nightly one (`nightly_build`);
    a full refresh, a first build and a build with `test_window` off (after landed
    partitions were rewritten, as the retention rule does) test everything, and the
    last also recomputes every year of the period aggregates (their nightly build
    otherwise recomputes the years touched since the last build).
    """
    landing, warehouse = settings.landing_path, settings.warehouse_path
    _check_landing(landing)
    reason = None
    if not full_refresh:
        built_from, landed = warehouse_database_id(warehouse), landed_database_id(landing)
        if built_from is not None and landed is not None and built_from != landed:
            reason = (
                f"the landing holds database {landed}, the warehouse was built from "
                f"{built_from}: rebuilding the incremental facts from scratch (--full-refresh)"
            )
            full_refresh = True
    arguments = ["build"]
    if select:
        arguments += ["--select", *([select] if isinstance(select, str) else select)]
    if full_refresh:
        arguments.append("--full-refresh")
    nightly = nightly_build(warehouse, full_refresh or not test_window)
    arguments += nightly.arguments
    return BuildPlan(
        landing,
        warehouse,
        tuple(arguments),
        full_refresh,
        reason,
        nightly,
        rebuild_all_periods=not test_window and not full_refresh,
    )


def build_warehouse(
    settings: Settings | None = None,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    *,
    log: Log = log_to_stderr,
    target_path: Path | None = None,
    log_path: Path | None = None,
    test_window: bool = True,
) -> Path:
    """`dbt build` (seeds, models, data tests, unit tests) from the settings' landing into
    the settings' warehouse, as `plan_build` plans it; returns the warehouse path."""
    settings = settings or get_settings()
    plan = plan_build(settings, select, full_refresh, test_window=test_window)
    plan.warehouse.parent.mkdir(parents=True, exist_ok=True)
    for note in plan.notes:
        log(f"warehouse: {note}")
    log(f"warehouse: {plan.landing} -> {plan.warehouse}")
    run_dbt(
        plan.arguments,
        settings,
        log=log,
        target_path=target_path,
        log_path=log_path,
        extra_env=plan.environment,
    )
    return plan.warehouse


def generate_docs(
    settings: Settings | None = None,
    *,
    log: Log = log_to_stderr,
    target_path: Path | None = None,
) -> Path:
    """`dbt docs generate` (needs a built warehouse for the catalogue); returns index.html."""
    settings = settings or get_settings()
    run_dbt(["docs", "generate"], settings, log=log, target_path=target_path)
    return (target_path or DBT_PROJECT_DIR / "target") / "index.html"
