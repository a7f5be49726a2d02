"""plan_build's decisions, on small hand-made landings and warehouses (no dbt run): what
`bibbla warehouse build` and the pipeline's dbt step both run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from bibbla.config import Settings
from warehouse.build import (
    REBUILD_ALL_PERIODS_VARIABLE,
    TESTS_SINCE_VARIABLE,
    NoEventsLanded,
    WarehouseBuildError,
    plan_build,
    without_unit_tests_if_off,
)

LANDED_DATABASE = "11111111-1111-1111-1111-111111111111"
OTHER_DATABASE = "22222222-2222-2222-2222-222222222222"
NEWEST_SNAPSHOT = date(2025, 4, 30)


def _settings(root: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=root,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        operational_db=f"sqlite:///{root / 'unused.sqlite'}",
    )


def _land(settings: Settings, *, events: bool = True, database: str = LANDED_DATABASE) -> None:
    """A landing with one event partition (or none) and a snapshot manifest naming the
    lending-core database it was read from."""
    landing = settings.landing_path
    manifest = landing / "snapshot_manifest" / "date=2025-04-30"
    manifest.mkdir(parents=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select '{database}' as database_id) to '{manifest / 'part-0.parquet'}'"
        )
        if events:
            day = landing / "circulation_event" / "date=2025-04-30"
            day.mkdir(parents=True)
            connection.execute(
                f"copy (select '{database}' as database_id, 1::bigint as id) "
                f"to '{day / 'part-0.parquet'}'"
            )


def _build(settings: Settings, *, database: str, provenance: bool = True) -> None:
    """A warehouse as a finished build leaves it: facts from `database`, and the newest
    snapshot date it was built from (a build that stopped early has no provenance)."""
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute(f"create table main.fct_loans as select '{database}' as database_id")
        if provenance:
            connection.execute(
                "create table main.mart_data_provenance as "
                f"select date '{NEWEST_SNAPSHOT}' as snapshot_as_of_date"
            )


def test_no_events_landed_is_a_clear_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings, events=False)
    with pytest.raises(NoEventsLanded, match=r"no circulation events landed under .*bibbla ingest"):
        plan_build(settings)
    assert issubclass(NoEventsLanded, WarehouseBuildError)  # the CLI's error handling


def test_a_first_build_runs_everything(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    plan = plan_build(settings)
    assert plan.arguments == ("build",)
    assert (plan.full_refresh, plan.full_refresh_reason, plan.nightly.since) == (False, None, None)
    assert plan.environment == {}
    assert plan.notes == []
    assert (plan.landing, plan.warehouse) == (settings.landing_path, settings.warehouse_path)


def test_a_build_on_a_built_warehouse_is_the_nightly_one(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    _build(settings, database=LANDED_DATABASE)
    plan = plan_build(settings)
    assert plan.arguments == ("build", "--exclude", "test_type:unit")
    assert not plan.full_refresh and plan.full_refresh_reason is None
    assert plan.environment == {TESTS_SINCE_VARIABLE: NEWEST_SNAPSHOT.isoformat()}
    assert plan.notes == [plan.nightly.description]
    assert str(NEWEST_SNAPSHOT) in plan.nightly.description


def test_a_build_that_stopped_early_tests_every_partition_again(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    _build(settings, database=LANDED_DATABASE, provenance=False)
    plan = plan_build(settings)
    assert plan.arguments == ("build",) and plan.environment == {}


def test_a_new_database_identity_rebuilds_the_facts_and_says_why(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings, database=LANDED_DATABASE)
    _build(settings, database=OTHER_DATABASE)
    plan = plan_build(settings)
    assert plan.arguments == ("build", "--full-refresh")
    assert plan.full_refresh
    assert plan.full_refresh_reason is not None
    assert LANDED_DATABASE in plan.full_refresh_reason
    assert OTHER_DATABASE in plan.full_refresh_reason
    # a full refresh tests everything: no window, unit tests included
    assert plan.nightly.since is None and plan.environment == {}
    assert plan.notes == [plan.full_refresh_reason]


def test_a_full_refresh_asked_for_needs_no_reason(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    _build(settings, database=LANDED_DATABASE)
    plan = plan_build(settings, full_refresh=True)
    assert plan.arguments == ("build", "--full-refresh")
    assert plan.full_refresh_reason is None and plan.environment == {}


def test_without_the_test_window_every_partition_and_unit_test_runs(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    _build(settings, database=LANDED_DATABASE)
    plan = plan_build(settings, test_window=False)
    assert plan.arguments == ("build",) and plan.notes == []
    # landed partitions were rewritten: the period aggregates recompute every year too
    assert plan.environment == {REBUILD_ALL_PERIODS_VARIABLE: "1"}


@pytest.mark.parametrize(
    ("select", "selected"),
    [
        ("fct_loans", ("fct_loans",)),
        (["fct_loans", "+mart_goal_progress"], ("fct_loans", "+mart_goal_progress")),
    ],
)
def test_a_selection_narrows_the_build(tmp_path: Path, select, selected) -> None:
    settings = _settings(tmp_path)
    _land(settings)
    plan = plan_build(settings, select=select)
    assert plan.arguments == ("build", "--select", *selected)


def test_unit_tests_are_left_out_of_a_build_only_when_the_settings_say_so(tmp_path: Path) -> None:
    on = _settings(tmp_path)
    off = on.model_copy(update={"dbt_unit_tests": False})
    # Unset, they run where SQL is developed and tested, not in the demo or production
    # (static fixtures: dbt's documentation advises against spending production compute)
    assert on.dbt_unit_tests is None and on.runs_dbt_unit_tests  # env="test"
    assert on.model_copy(update={"env": "dev"}).runs_dbt_unit_tests
    for env in ("demo", "production"):
        unset = on.model_copy(update={"env": env})
        assert not unset.runs_dbt_unit_tests
        assert unset.model_copy(update={"dbt_unit_tests": True}).runs_dbt_unit_tests
    assert not off.runs_dbt_unit_tests
    assert Settings(env="demo", dbt_unit_tests="").dbt_unit_tests is None  # as in .env.example
    build = ["build", "--full-refresh"]
    assert without_unit_tests_if_off(build, on) == build
    assert without_unit_tests_if_off(build, off) == [*build, "--exclude", "test_type:unit"]
    # a nightly build leaves them out already; other commands have none to leave out
    nightly = ["build", "--exclude", "test_type:unit"]
    assert without_unit_tests_if_off(nightly, off) == nightly
    assert without_unit_tests_if_off(["run", "--select", "fct_loans"], off) == [
        "run",
        "--select",
        "fct_loans",
    ]
