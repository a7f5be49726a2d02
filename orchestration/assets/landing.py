"""Landing assets: one asset per landed table, computed by the ingestion functions.

- `landing/circulation_event`: the event feed, landed incrementally by watermark
  (`ingestion.extract_events`);
- `landing/<snapshot table>` (14): one multi-asset, `ingestion.land_snapshots`, because the
  tables are read in one transaction and describe one moment;
- `landing/<reference table>` (6): one multi-asset, `ingestion.land_reference`.

No time partitions, deliberately. Extraction is watermark-based: a run lands every event
committed since the previous one, whatever days they fall on, and the lending core can
only be read as it is now (snapshots describe the newest event; there is no "item table as
of last Tuesday" to re-read). A Dagster partition per day would promise something the
source cannot do: re-materialising 2025-03-04 could not re-extract that day, and a run
that lands three days at once would have to pretend to be three runs. The landing itself
is Hive-partitioned by date (the physical layout dbt prunes on), and every materialisation
records which `date=` partitions it wrote and the watermark it moved, so a run is as
inspectable as a partition would be. Re-running is always safe (idempotent by watermark).

Retries: reading the lending core and writing the landing are I/O. A busy landing (another
run holds its lock) or an unreachable database is retried with backoff; a refusal that no
retry can fix (pseudonym key missing or changed, database rebuilt, a malformed reference
file) fails at once with ingestion's message, which says what to do.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from bibbla.config import Settings
from ingestion import IngestionError, extract_events, land_reference, land_snapshots
from ingestion.contract import CIRCULATION_EVENT, REFERENCE_TABLES, SNAPSHOT_TABLES, Table
from ingestion.errors import LandingBusy, OperationalDatabaseUnavailable
from ingestion.landing import BATCH_FILE
from ingestion.report import RunReport
from orchestration.dbt_project import landing_key
from orchestration.metadata import column_schema, parquet_rows, preview_file

EVENTS_GROUP = "landing_events"
SNAPSHOTS_GROUP = "landing_snapshots"
REFERENCE_GROUP = "landing_reference"
LANDING_GROUPS = (EVENTS_GROUP, SNAPSHOTS_GROUP, REFERENCE_GROUP)

# Reading the lending core and writing Parquet: retry what a retry can fix.
IO_RETRY = dg.RetryPolicy(
    max_retries=3, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
_TRANSIENT = (LandingBusy, OperationalDatabaseUnavailable)


def _spec(table: Table, group: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=landing_key(table.name),
        group_name=group,
        description=f"Landed `{table.name}` ({table.kind} table): {table.grain}. "
        "Contract: ingestion/LANDING.md.",
        kinds={"parquet", "polars"},
        metadata={"dagster/column_schema": column_schema(table), "table_kind": table.kind},
    )


def _call(step, *args, **kwargs) -> RunReport:
    """Run an ingestion step; a refusal no retry can fix fails at once, with its message."""
    try:
        return step(*args, **kwargs)
    except _TRANSIENT:
        raise  # the retry policy takes it from here
    except IngestionError as error:
        raise dg.Failure(
            description=f"{type(error).__name__}: {error}",
            metadata={"error": type(error).__name__},
            allow_retries=False,
        ) from error


def _common(report: RunReport, table: str) -> dict:
    table_report = report.table(table)
    metadata: dict = {
        "rows_landed": table_report.rows_landed,
        "rows_quarantined": table_report.rows_quarantined,
        "files_written": table_report.files_written,
        "quarantine_reasons": dg.MetadataValue.json(table_report.quarantine_reasons),
        "run_seconds": round(report.seconds, 3),
    }
    if report.database_id:
        metadata["database_id"] = report.database_id
    if report.as_of is not None:
        metadata["as_of"] = report.as_of.isoformat()
    if report.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {note}" for note in report.notes))
    if report.recovery.anything:
        metadata["recovery"] = dg.MetadataValue.json(
            {
                "temporary_files_removed": report.recovery.temporary_files_removed,
                "uncommitted_files_removed": report.recovery.uncommitted_files_removed,
                "folders_moved_aside": report.recovery.folders_moved_aside,
            }
        )
    return metadata


def new_event_files(root: Path, database_id: str | None, after: int) -> list[Path]:
    """The event files of batches beyond `after` (the watermark before the run)."""
    folder = root / CIRCULATION_EVENT.name
    if database_id is None or not folder.exists():
        return []
    found = []
    for path in folder.glob("date=*/part-*.parquet"):
        match = BATCH_FILE.match(path.name)
        if match and match["database"] == database_id and int(match["first"]) > after:
            found.append(path)
    return sorted(found, key=lambda path: (path.parent.name, path.name))


@dg.asset(
    key=landing_key(CIRCULATION_EVENT.name),
    group_name=EVENTS_GROUP,
    description=_spec(CIRCULATION_EVENT, EVENTS_GROUP).description
    + " Incremental: each run lands the events committed since the landed watermark.",
    kinds={"parquet", "polars"},
    metadata={"dagster/column_schema": column_schema(CIRCULATION_EVENT), "table_kind": "events"},
    retry_policy=IO_RETRY,
)
def circulation_event(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    """Land the circulation events committed since the last run (ingestion.extract_events)."""
    report = _call(extract_events, settings, progress=context.log.info)
    context.log.info(report.summary())
    root = settings.landing_path
    written = new_event_files(root, report.database_id, report.watermark_before or 0)
    dates = sorted({path.parent.name.removeprefix("date=") for path in written})
    metadata = _common(report, CIRCULATION_EVENT.name)
    metadata |= {
        "watermark_before": report.watermark_before or 0,
        "watermark_after": report.watermark_after or 0,
        "batches": report.batches,
        "date_partitions_written": len(dates),
        "dates": dg.MetadataValue.md(
            f"{dates[0]} … {dates[-1]} ({len(dates)} days)" if dates else "no new events"
        ),
        "dagster/row_count": parquet_rows(str(root / CIRCULATION_EVENT.name / "*" / "*.parquet")),
        "path": dg.MetadataValue.path(str(root / CIRCULATION_EVENT.name)),
    }
    newest = preview_file(written[-1] if written else None, last=True)
    if newest is not None:
        metadata["preview"] = newest
    return dg.MaterializeResult(metadata=metadata)


@dg.multi_asset(
    name="snapshots",
    specs=[_spec(table, SNAPSHOTS_GROUP) for table in SNAPSHOT_TABLES],
    description="Land what changed in the lending core's slowly changing tables as of the "
    "newest event, read in one transaction (ingestion.land_snapshots): a history per table, "
    "the whole table on the first run.",
    retry_policy=IO_RETRY,
)
def snapshots(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> Iterator[dg.MaterializeResult]:
    report = _call(land_snapshots, settings, progress=context.log.info)
    context.log.info(report.summary())
    root = settings.landing_path
    for table in SNAPSHOT_TABLES:
        metadata = _common(report, table.name)
        metadata["dagster/row_count"] = report.table(table.name).rows_landed
        if report.as_of is not None and report.database_id:
            path = root / table.name / f"date={report.as_of.isoformat()}"
            prefix = "changes" if table.is_history else "snapshot"
            path = path / f"{prefix}-{report.database_id}.parquet"
            metadata["path"] = dg.MetadataValue.path(str(path))
            shown = preview_file(path)
            if shown is not None:
                metadata["preview"] = shown
        yield dg.MaterializeResult(asset_key=landing_key(table.name), metadata=metadata)


@dg.multi_asset(
    name="reference",
    specs=[_spec(table, REFERENCE_GROUP) for table in REFERENCE_TABLES],
    description="Check and land the reference files edited by people: population, transport "
    "budget, goals, KB statistics (ingestion.land_reference).",
    retry_policy=IO_RETRY,
)
def reference(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> Iterator[dg.MaterializeResult]:
    report = _call(land_reference, settings, progress=context.log.info)
    context.log.info(report.summary())
    for table in REFERENCE_TABLES:
        path = settings.landing_path / table.name / "reference.parquet"
        metadata = _common(report, table.name)
        metadata["dagster/row_count"] = report.table(table.name).rows_landed
        metadata["path"] = dg.MetadataValue.path(str(path))
        shown = preview_file(path)
        if shown is not None:
            metadata["preview"] = shown
        yield dg.MaterializeResult(asset_key=landing_key(table.name), metadata=metadata)


def landing_assets() -> list:
    return [circulation_event, snapshots, reference]
