"""The whole graph, materialised as the nightly run does it, and a broken landing."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.assets.reports import REPORTS_KEY
from orchestration.assets.retention import RETENTION_KEY
from orchestration.checks.marts import EXPECTED_MART_CHECKS
from orchestration.dbt_project import landing_key
from orchestration.definitions import build_definitions
from orchestration.jobs import NIGHTLY_JOB
from tests.orchestration.conftest import Copy, PipelineRun

pytestmark = pytest.mark.slow


def _run_records(pipeline_run: PipelineRun):
    with pipeline_run.instance() as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name=NIGHTLY_JOB))
        assert len(runs) == 1, "bibbla pipeline run records its run in DAGSTER_HOME"
        run = runs[0].dagster_run
        events = instance.all_logs(run.run_id)
    return run, events


def test_a_full_run_materialises_everything_and_passes_every_check(
    pipeline_run: PipelineRun,
) -> None:
    assert pipeline_run.returncode == 0, pipeline_run.output
    assert "pipeline succeeded" in pipeline_run.output
    run, events = _run_records(pipeline_run)
    assert run.status == dg.DagsterRunStatus.SUCCESS

    materialised = {
        event.dagster_event.asset_key: event.dagster_event.event_specific_data.materialization
        for event in events
        if event.dagster_event and event.dagster_event.is_step_materialization
    }
    definitions = build_definitions(pipeline_run.settings)
    graph = definitions.resolve_asset_graph()
    # everything but the report site (--no-reports) and the retention of patron keys (its
    # own monthly job)
    expected = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable} - {
        REPORTS_KEY,
        RETENTION_KEY,
    }
    assert expected <= set(materialised), sorted(map(str, expected - set(materialised)))

    evaluations = [
        event.dagster_event.event_specific_data
        for event in events
        if event.dagster_event
        and event.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    assert failed == []
    evaluated = {(e.asset_key, e.check_name) for e in evaluations}
    assert evaluated == {(key.asset_key, key.name) for key in graph.asset_check_keys}, (
        "every check of the graph ran"
    )
    for model, check in EXPECTED_MART_CHECKS:
        assert (dg.AssetKey([model]), check) in evaluated

    # metadata on every asset: row counts, previews, what the run did
    events_landed = materialised[landing_key("circulation_event")].metadata
    assert events_landed["rows_landed"].value > 1000
    assert events_landed["rows_quarantined"].value == 0
    assert events_landed["watermark_after"].value == events_landed["dagster/row_count"].value
    assert "preview" in events_landed
    # the nightly run lands the patrons' changes since the first run (new patrons, new age
    # bands), not the patron table again
    patrons = materialised[landing_key("patron")].metadata
    assert 0 < patrons["dagster/row_count"].value < 100
    assert "| patron_key |" in patrons["preview"].value
    assert "| change |" in patrons["preview"].value
    month_mart = materialised[dg.AssetKey(["mart_equity_municipality_month"])].metadata
    assert month_mart["dagster/row_count"].value == 9 * 17  # nine municipalities, 17 months
    assert "preview" in month_mart
    for key, materialisation in materialised.items():
        assert materialisation.metadata, f"{key.to_user_string()} has no metadata"

    docs = pipeline_run.settings.data_dir / "dbt" / "docs" / "static_index.html"
    assert docs.is_file() and docs.stat().st_size > 100_000
    assert str(pipeline_run.settings.warehouse_path) in pipeline_run.output


def test_dagster_home_is_project_local_with_telemetry_off(pipeline_run: PipelineRun) -> None:
    config = yaml.safe_load((pipeline_run.dagster_home / "dagster.yaml").read_text())
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1


def test_a_duplicated_event_fails_the_id_check_and_nothing_is_built_on_it(
    pipeline_copy: Copy,
) -> None:
    # A batch file landed twice (as a crash and a careless copy could leave it).
    original = sorted(pipeline_copy.landing.glob("circulation_event/date=*/part-*.parquet"))[-1]
    other_day = pipeline_copy.landing / "circulation_event" / "date=2025-04-29"
    other_day.mkdir(exist_ok=True)
    if other_day == original.parent:
        other_day = pipeline_copy.landing / "circulation_event" / "date=2025-04-28"
        other_day.mkdir(exist_ok=True)
    shutil.copy2(original, other_day / original.name)
    warehouse_before = pipeline_copy.settings.warehouse_path.stat().st_mtime_ns

    definitions = build_definitions(pipeline_copy.settings)
    job = definitions.resolve_job_def(NIGHTLY_JOB)
    graph = definitions.resolve_asset_graph()
    selection = [
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable and key not in (REPORTS_KEY, RETENTION_KEY)
    ]
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=selection, raise_on_error=False
    )

    assert not result.success
    checks = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    id_check = checks[(landing_key("circulation_event"), "event_ids_unique_and_increasing")]
    assert not id_check.passed
    failing = id_check.metadata["failing_values"].value
    unique = next(f for f in failing if "to_be_between(column=copies" in f["expectation"])
    assert unique["unexpected_count"] > 0
    duplicated_ids = {int(row["id"]) for row in unique["failing"]}
    with duckdb.connect() as connection:
        ids_in_file = {row[0] for row in connection.sql(f"select id from '{original}'").fetchall()}
    assert duplicated_ids <= ids_in_file
    # each failing id names the two files that hold it
    landed = pipeline_copy.landing
    both = {str(original.relative_to(landed)), str((other_day / original.name).relative_to(landed))}
    assert all(int(row["copies"]) == 2 for row in unique["failing"])
    assert all(set(row["files"].split(", ")) == both for row in unique["failing"])

    # Nothing downstream was built on it: the dbt step, the mart checks and the docs were
    # skipped, and the warehouse file was not touched.
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    assert landing_key("circulation_event") in materialised
    assert dg.AssetKey(["fct_loans"]) not in materialised
    assert dg.AssetKey(["dbt_docs"]) not in materialised
    assert not any(key[0] == dg.AssetKey(["fct_loans"]) for key in checks)
    started = {event.step_key for event in result.all_events if event.is_step_start}
    assert "landing__circulation_event" in started
    assert not {"warehouse", "mart_checks", "dbt_docs"} & started
    assert pipeline_copy.settings.warehouse_path.stat().st_mtime_ns == warehouse_before
