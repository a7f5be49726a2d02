"""The definitions load, the graph is connected as designed, and the schedule, the feed
sensor and the report asset behave."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from bibbla.config import PROJECT_ROOT
from ingestion.contract import ALL_TABLES, REFERENCE_TABLES, SNAPSHOT_TABLES
from ingestion.retention import RetentionReport
from orchestration.assets.reports import REPORTS_KEY
from orchestration.assets.retention import RETENTION_KEY, retention_metadata
from orchestration.checks.marts import EXPECTED_MART_CHECKS
from orchestration.dbt_project import landing_key
from orchestration.definitions import build_definitions
from orchestration.jobs import INGEST_JOB, NIGHTLY_JOB, RETENTION_JOB
from orchestration.sensors import evaluate_feed
from tests.orchestration.conftest import Copy, PipelineRun, bibbla, environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def definitions(pipeline_run: PipelineRun) -> dg.Definitions:
    return build_definitions(pipeline_run.settings)


def test_the_module_loads_in_dagster(pipeline_run: PipelineRun, tmp_path: Path) -> None:
    """What `dagster dev -m orchestration.definitions` loads, loaded by dagster's own CLI."""
    env = environment(pipeline_run.settings, tmp_path / "dagster_home")
    (tmp_path / "dagster_home").mkdir()
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_asset_per_landed_table_connected_to_the_dbt_sources(
    definitions: dg.Definitions,
) -> None:
    graph = definitions.resolve_asset_graph()
    for table in ALL_TABLES:
        node = graph.get(landing_key(table.name))
        assert node.is_materializable
        assert node.metadata["dagster/column_schema"].columns[0].name
    assert graph.get(landing_key("patron")).group_name == "landing_snapshots"
    assert graph.get(landing_key("population")).group_name == "landing_reference"
    # dbt's sources are the landing assets: staging reads them, nothing dangles.
    staging_item = next(
        k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_lending_core__item"
    )
    assert landing_key("item") in graph.get(staging_item).parent_keys
    assert not [key for key in graph.get_all_asset_keys() if not graph.get(key).is_materializable]
    # dbt models grouped by folder; tests are checks on their models
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {"staging_lending_core", "staging_reference", "intermediate", "marts_core"} <= groups
    assert {"marts_equity", "docs", "reports"} <= groups
    fct_loans_checks = {
        key.name for key in graph.asset_check_keys if key.asset_key.path == ["fct_loans"]
    }
    assert any(name.startswith(("unique_", "not_null_")) for name in fct_loans_checks)
    # the report site comes last, after the marts
    reports = graph.get(REPORTS_KEY)
    assert dg.AssetKey(["mart_equity_municipality_month"]) in reports.parent_keys
    assert not reports.child_keys


def test_checks_cover_the_landing_and_the_marts_and_block(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    specs = {(key.asset_key, key.name): graph.get_check_spec(key) for key in graph.asset_check_keys}
    events = landing_key("circulation_event")
    for name in ("event_ids_unique_and_increasing", "loans_returned_after_checkout"):
        assert specs[(events, name)].blocking
    for table in ALL_TABLES:
        assert specs[(landing_key(table.name), "no_personal_data")].blocking
    for table in (events.path[-1], *(table.name for table in SNAPSHOT_TABLES)):
        # quarantined rows are surfaced (the check fails) but the warehouse is still built
        assert not specs[(landing_key(table), "quarantine_empty")].blocking
    for table in REFERENCE_TABLES:
        assert (landing_key(table.name), "codes_known") in specs or table.name in (
            "transport_budget",
            "goal_target",
        )
    for model, check in EXPECTED_MART_CHECKS:
        assert specs[(dg.AssetKey([model]), check)].blocking, (model, check)


def test_jobs_schedule_sensor_and_executor(definitions: dg.Definitions) -> None:
    nightly = definitions.resolve_job_def(NIGHTLY_JOB)
    assert nightly.executor_def.name == "in_process"
    ingest = definitions.resolve_job_def(INGEST_JOB)
    assert ingest.asset_layer.executable_asset_keys == {
        landing_key(table.name) for table in ALL_TABLES
    }
    schedule = definitions.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "0 4 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.job_name == NIGHTLY_JOB
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = definitions.resolve_sensor_def("event_feed_moved")
    assert sensor.job_name == INGEST_JOB
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    # A tick of the schedule asks for a run of the whole graph.
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 29, 4, tzinfo=ZoneInfo("Europe/Stockholm"))
    ) as context:
        requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1


def test_the_retention_of_patron_keys_runs_monthly_on_its_own_job(
    definitions: dg.Definitions,
) -> None:
    graph = definitions.resolve_asset_graph()
    retention = graph.get(RETENTION_KEY)
    assert retention.is_materializable
    assert {dg.AssetKey(["fct_loans"]), dg.AssetKey(["fct_holds"])} <= retention.parent_keys
    assert landing_key("circulation_event") in retention.parent_keys
    # the dbt models that keep what the retention freezes sit beside it
    assert dg.AssetKey(["retention", "retained_equity_loan_people"]) in graph.get_all_asset_keys()
    nightly = definitions.resolve_job_def(NIGHTLY_JOB)
    assert RETENTION_KEY not in nightly.asset_layer.executable_asset_keys
    assert definitions.resolve_job_def(RETENTION_JOB).asset_layer.executable_asset_keys == {
        RETENTION_KEY
    }
    schedule = definitions.resolve_schedule_def("monthly_retention")
    assert schedule.job_name == RETENTION_JOB
    assert schedule.cron_schedule == "0 6 2 * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_retention_asset_reports_its_cutoff_and_changes_nothing_when_nothing_is_due(
    pipeline_copy: Copy,
) -> None:
    # The world's events run from 2024-01-01 to 2025-05-31: with 16 months of retention
    # the cutoff is 2024-01-01, the first day landed, so nothing is due yet. (That a cutoff
    # inside a year that has not ended moves back to its 1 January is tested on
    # `retention_cutoff` itself, in tests/ingestion/test_retention.py.)
    settings = pipeline_copy.settings.model_copy(update={"retention_months": 16})
    warehouse_before = settings.warehouse_path.stat().st_mtime_ns
    definitions = build_definitions(settings)
    result = definitions.resolve_job_def(RETENTION_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    [materialisation] = result.asset_materializations_for_node("retention__patron_keys")
    metadata = {key: value.value for key, value in materialisation.metadata.items()}
    assert metadata["cutoff"] == "2024-01-01"
    assert "month_cutoff" not in metadata  # shown only when the cutoff was moved back
    assert metadata["newest_event_date"] == "2025-05-31"
    assert (metadata["files_rewritten"], metadata["keys_cleared"]) == (0, 0)
    assert metadata["warehouse_rebuilt"] is False
    assert settings.warehouse_path.stat().st_mtime_ns == warehouse_before


def test_the_retention_metadata_says_when_the_cutoff_moved_back_to_the_open_year() -> None:
    # newest event 2025-04-30, one month: 2025-03-01 is inside 2025, which has not ended,
    # so the cutoff moves back to 2025-01-01, and the UI says so
    report = RetentionReport(
        started_at=datetime(2025, 5, 2, 6, tzinfo=UTC),
        retention_months=1,
        newest_event_date=date(2025, 4, 30),
        month_cutoff=date(2025, 3, 1),
        cutoff=date(2025, 1, 1),
    )
    metadata = retention_metadata(report)
    assert (metadata["cutoff"], metadata["month_cutoff"]) == ("2025-01-01", "2025-03-01")
    assert metadata["newest_event_date"] == "2025-04-30"


def test_the_sensor_waits_while_the_retention_holds_the_landing(pipeline_copy: Copy) -> None:
    env = {
        **environment(pipeline_copy.settings, pipeline_copy.root / "home"),
        "BIBBLA_OPERATIONAL_DB": pipeline_copy.settings.operational_db,
    }
    bibbla(["simulate", "--resume", "--days", "1"], env)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name=RETENTION_JOB, run_id="1" * 36, status=dg.DagsterRunStatus.STARTED
            )
        )
        skipped = evaluate_feed(dg.build_sensor_context(instance=instance), pipeline_copy.settings)
    assert isinstance(skipped, dg.SkipReason)
    assert "retention" in skipped.skip_message


def _tick(settings) -> dg.RunRequest | dg.SkipReason:
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance)
        return evaluate_feed(context, settings)


def test_the_sensor_waits_while_nothing_is_new(pipeline_run: PipelineRun) -> None:
    tick = _tick(pipeline_run.settings)
    assert isinstance(tick, dg.SkipReason)
    assert "nothing new" in tick.skip_message


def test_the_sensor_runs_ingestion_when_the_feed_moves(pipeline_copy: Copy) -> None:
    env = {
        **environment(pipeline_copy.settings, pipeline_copy.root / "home"),
        "BIBBLA_OPERATIONAL_DB": pipeline_copy.settings.operational_db,
    }
    bibbla(["simulate", "--resume", "--days", "1"], env)
    tick = _tick(pipeline_copy.settings)
    assert isinstance(tick, dg.RunRequest), tick
    _database_id, newest = tick.run_key.split(":")
    assert int(newest) > int(tick.tags["bibbla/landed_watermark"])

    # While a pipeline run is in progress, the sensor leaves the events to it.
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_run(
            dg.DagsterRun(job_name=NIGHTLY_JOB, run_id="0" * 36, status=dg.DagsterRunStatus.STARTED)
        )
        skipped = evaluate_feed(dg.build_sensor_context(instance=instance), pipeline_copy.settings)
    assert isinstance(skipped, dg.SkipReason)
    assert "in progress" in skipped.skip_message

    # Once ingestion has landed them, it waits again.
    definitions = build_definitions(pipeline_copy.settings)
    result = definitions.resolve_job_def(INGEST_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    landed = result.asset_materializations_for_node("landing__circulation_event")[0]
    assert landed.metadata["watermark_after"].value == int(newest)
    assert isinstance(_tick(pipeline_copy.settings), dg.SkipReason)


def test_the_sensor_says_when_the_lending_core_was_rebuilt(pipeline_copy: Copy) -> None:
    env = {
        **environment(pipeline_copy.settings, pipeline_copy.root / "home"),
        "BIBBLA_OPERATIONAL_DB": pipeline_copy.settings.operational_db,
    }
    bibbla(["db", "init", "--reset"], env)
    tick = _tick(pipeline_copy.settings)
    assert isinstance(tick, dg.SkipReason)
    assert "--full-refresh" in tick.skip_message


def test_the_report_site_fails_clearly_without_node(
    definitions: dg.Definitions, pipeline_run: PipelineRun, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    assets = definitions.resolve_assets_def(REPORTS_KEY)
    with pytest.raises(dg.Failure, match=r"Node\.js 20"):
        assets(context=dg.build_asset_context(), settings=pipeline_run.settings)


def test_refusals_fail_at_once_and_a_busy_landing_is_retried() -> None:
    from ingestion.errors import LandingBusy, PseudonymKeyMissing
    from orchestration.assets.landing import IO_RETRY, _call

    def refuse():
        raise PseudonymKeyMissing("BIBBLA_PSEUDONYM_KEY is not set")

    def busy():
        raise LandingBusy("another ingestion run is using the landing")

    with pytest.raises(dg.Failure) as refused:
        _call(refuse)
    assert not refused.value.allow_retries
    assert "BIBBLA_PSEUDONYM_KEY is not set" in refused.value.description
    with pytest.raises(LandingBusy):  # left to the asset's retry policy
        _call(busy)
    assert IO_RETRY.max_retries == 3
