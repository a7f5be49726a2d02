"""Retention of patron keys as an asset: `retention/patron_keys`, on its own monthly job.

It runs `ingestion.retention.apply_retention` with the dbt-backed warehouse side
(`warehouse.retention.DbtRetentionWarehouse`): freeze the aggregates that count people in the
periods before the cutoff, remove the patron keys dated before it from the landing, and
rebuild the warehouse, whose marts come out unchanged. The materialisation records the
cutoff and what was removed. It sits downstream of the facts and the keyed landing tables
in the graph, but outside the nightly job: the cutoff moves once a month, so it runs on a
monthly schedule (orchestration/schedules.py), and a run that finds nothing to remove
changes nothing.
"""

import dagster as dg
from dagster import AssetExecutionContext

from bibbla.config import Settings
from ingestion.errors import IngestionError, LandingBusy
from ingestion.retention import (
    KEYED_EVENT_TABLES,
    KEYED_SNAPSHOT_TABLES,
    RetentionReport,
    apply_retention,
)
from orchestration.assets.landing import IO_RETRY
from orchestration.dbt_project import dbt_folder, landing_key
from warehouse.build import WarehouseBuildError
from warehouse.retention import FACT_KEY_DATES, DbtRetentionWarehouse

RETENTION_KEY = dg.AssetKey(["retention", "patron_keys"])
RETENTION_GROUP = "retention"


def retention_metadata(report: RetentionReport) -> dict:
    """What the UI shows for one run: the cutoff and what was removed."""
    metadata: dict = {
        "retention_months": report.retention_months,
        "cutoff": report.cutoff.isoformat() if report.cutoff else "none (no events landed)",
        "newest_event_date": (
            report.newest_event_date.isoformat() if report.newest_event_date else "none"
        ),
        "files_rewritten": report.files_rewritten,
        "keys_cleared": report.landing_keys_cleared,
        "keys_cleared_by_table": dg.MetadataValue.json(report.keys_cleared),
        "warehouse_keys_cleared": report.warehouse_keys_cleared,
        "frozen_rows": dg.MetadataValue.json(report.frozen_rows),
        "warehouse_rebuilt": report.warehouse_rebuilt,
        "run_seconds": round(report.seconds, 3),
        "summary": dg.MetadataValue.md(f"```\n{report.summary()}\n```"),
    }
    if report.month_cutoff and report.month_cutoff != report.cutoff:
        metadata["month_cutoff"] = report.month_cutoff.isoformat()
    return metadata


@dg.asset(
    key=RETENTION_KEY,
    group_name=RETENTION_GROUP,
    deps=[
        *(dg.AssetKey([fact]) for fact in FACT_KEY_DATES),
        *(landing_key(table.name) for table in (*KEYED_EVENT_TABLES, *KEYED_SNAPSHOT_TABLES)),
    ],
    kinds={"parquet", "dbt"},
    description="Removes the patron keys of events older than BIBBLA_RETENTION_MONTHS "
    "(default 36) from the landing and the warehouse's facts, after freezing the counts of "
    "distinct people of those periods, so every mart stays the same "
    "(ingestion/retention.py; ingestion/LANDING.md, 'Retention'). Monthly.",
    retry_policy=IO_RETRY,
)
def patron_keys(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    """Apply the retention rule for patron keys (ingestion.retention.apply_retention)."""

    def dbt_line(line: str) -> None:
        # dbt's own lines to the debug log; its summary and errors to the run's progress
        if line.startswith("$ ") or "Done." in line or "ERROR" in line or "FAIL" in line:
            context.log.info(line)
        else:
            context.log.debug(line)

    warehouse = DbtRetentionWarehouse(
        settings, log=dbt_line, target_path=dbt_folder(settings) / "target"
    )
    try:
        report = apply_retention(settings, warehouse, progress=context.log.info)
    except LandingBusy:
        raise  # another run holds the landing: the retry policy takes it from here
    except (IngestionError, WarehouseBuildError) as error:
        raise dg.Failure(
            description=f"{type(error).__name__}: {error}",
            metadata={"error": type(error).__name__},
            allow_retries=False,
        ) from error
    context.log.info(report.summary())
    return dg.MaterializeResult(metadata=retention_metadata(report))
