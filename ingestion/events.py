"""Incremental landing of the circulation event feed.

Each run reads the events after the committed watermark, up to the newest event visible
when it started, in batches of `BIBBLA_INGEST_BATCH_ROWS` (memory stays flat however long
the history). A batch is checked, pseudonymised, split by local date into Parquet files,
made durable, and only then counted by moving the watermark to its last id. Killed at any
point, the next run removes the files of the uncommitted batch and lands it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from bibbla.config import Settings
from ingestion import faults, files, validation
from ingestion.contract import CIRCULATION_EVENT, quarantine_table
from ingestion.errors import landing_writes
from ingestion.landing import Landing
from ingestion.pseudonyms import Pseudonymiser
from ingestion.report import RunReport
from ingestion.run import landing_run
from ingestion.source import FeedPosition, now_utc
from privacy.rules import PERSONAL_DETAIL_KEYS

Progress = Callable[[str], None]

SOURCE_COLUMNS = (
    "id, occurred_at, type, branch_code, item_id, title_id, patron_id, loan_id, hold_id, "
    "transport_id, from_branch_code, to_branch_code, due_at, reason, "
    "CAST(details AS TEXT) AS details"
)
# How the lending core reads: a column read from the source and its type before landing.
SOURCE_SCHEMA = {
    **{c.name: c.dtype for c in CIRCULATION_EVENT.columns if c.name != "patron_key"},
    "patron_id": pl.Int64(),
}

# What each event type always carries in the lending core (operational/domain/model.py).
# An event without one of these cannot be placed by the warehouse and is quarantined.
REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "patron_registered": ("patron_id",),
    "title_added": ("title_id",),
    "item_added": ("item_id", "title_id"),
    "item_withdrawn": ("item_id",),
    "item_rehomed": ("item_id", "from_branch_code", "to_branch_code"),
    "checkout": ("item_id", "patron_id", "loan_id", "branch_code", "due_at"),
    "renew": ("item_id", "patron_id", "loan_id", "due_at"),
    "checkin": ("item_id", "loan_id", "branch_code"),
    **{
        f"hold_{state}": ("hold_id", "title_id", "patron_id")
        for state in ("placed", "trapped", "ready", "fulfilled", "cancelled", "expired", "requeued")
    },
    **{
        f"transport_{state}": ("transport_id", "item_id", "from_branch_code", "to_branch_code")
        for state in ("requested", "dispatched", "received", "lost")
    },
}
DUE_TYPES = ("checkout", "renew")
BRANCH_COLUMNS = ("branch_code", "from_branch_code", "to_branch_code")
# Keys that would be personal data in `details` (docs/domain.md says none is ever written
# there): the personal columns of privacy/rules.py and a patron's `name`.
_PERSONAL_DETAIL = r'"(' + "|".join(PERSONAL_DETAIL_KEYS) + r')"\s*:'


def _event_checks(branch_codes: set[str]) -> list[pl.Expr]:
    """The contract's rules for an event row (beyond its column types)."""
    checks = validation.required(("id", "occurred_at", "type"))
    columns: dict[str, list[str]] = {}
    for event_type, needed in REQUIRED_BY_TYPE.items():
        for column in needed:
            columns.setdefault(column, []).append(event_type)
    for column, types in columns.items():
        checks += validation.required((column,), when=pl.col("type").is_in(types))
    checks += validation.plausible_time(("occurred_at", "due_at"))
    checks.append(
        pl.when(pl.col("type").is_in(DUE_TYPES) & (pl.col("due_at") < pl.col("occurred_at"))).then(
            pl.lit("due_at is before occurred_at")
        )
    )
    checks += validation.known_branch(BRANCH_COLUMNS, branch_codes)
    return checks


def check_events(
    batch: pl.DataFrame, branch_codes: set[str], pseudonymiser: Pseudonymiser
) -> validation.Checked:
    """Type, check and pseudonymise one batch read from the lending core."""
    validation.check_selection(CIRCULATION_EVENT, batch.columns)
    typed, checks = validation.coerce(batch, SOURCE_SCHEMA)
    missing = typed["details"].is_null()
    if missing.any():
        checks.append(pl.when(pl.lit(missing)).then(pl.lit("details is missing")))
    personal = typed["details"].str.contains(_PERSONAL_DETAIL).fill_null(False)
    if personal.any():
        # The values are dropped here, so that not even the quarantine holds them.
        typed = typed.with_columns(
            pl.when(pl.lit(personal)).then(None).otherwise(pl.col("details")).alias("details")
        )
        checks.append(
            pl.when(pl.lit(personal)).then(pl.lit("details held personal data (removed)"))
        )
    typed = typed.with_columns(pseudonymiser.patron_keys(typed["patron_id"]).alias("patron_key"))
    checked = validation.split(typed, checks + _event_checks(branch_codes))
    # The raw patron id was needed by the checks; it goes no further.
    return validation.drop_personal(checked)


def _land_batch(
    landing: Landing,
    checked: validation.Checked,
    database_id: str,
    first: int,
    last: int,
    timezone: str,
) -> int:
    """Write one batch's files (landed by local date, quarantined in one file); returns
    how many files were written. The watermark is not touched here."""
    table = CIRCULATION_EVENT
    pending = []
    landed = checked.landed.with_columns(pl.lit(database_id).alias("database_id"))
    if landed.height:
        local_day = pl.col("occurred_at").dt.convert_time_zone(timezone).dt.date().alias("date")
        for (day,), rows in (
            landed.with_columns(local_day)
            .sort("id")
            .partition_by("date", as_dict=True, include_key=False)
            .items()
        ):
            final = landing.event_file(table.name, day, database_id, first, last)
            pending.append((files.write_parquet_temporary(table.conform(rows), final), final))
    if checked.quarantined.height:
        final = landing.event_quarantine_file(table.name, database_id, first, last)
        rows = checked.quarantined.with_columns(pl.lit(database_id).alias("database_id"))
        layout = quarantine_table(table)
        pending.append((files.write_parquet_temporary(layout.conform(rows), final), final))
    files.publish(pending)
    return len(pending)


@landing_writes
def extract_events(
    settings: Settings,
    *,
    full_refresh: bool = False,
    batch_rows: int | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Land the circulation events committed since the last run (all of them on a full
    refresh); returns what was landed and quarantined.

    Raises an IngestionError subclass, having landed nothing new, when the pseudonym key
    is missing or changed, the database was rebuilt, or another run holds the landing.
    """
    say = progress or (lambda _message: None)
    batch_rows = batch_rows or settings.ingest_batch_rows

    with landing_run(settings, "events", full_refresh=full_refresh) as run:
        source, landing, store, state = run.source, run.landing, run.store, run.state
        identity, position, report = run.identity, run.position, run.report
        table_report = report.table(CIRCULATION_EVENT.name)
        branch_codes = set(source.frame("SELECT code FROM branch")["code"].to_list())
        pseudonymiser = Pseudonymiser(run.key)

        watermark = report.watermark_before = state.watermark
        upper = position.last_event_id
        say(f"events: database {identity.database_id}, landed up to {watermark}, feed at {upper}")
        p = source.placeholder
        sql = (
            f"SELECT {SOURCE_COLUMNS} FROM circulation_event "
            f"WHERE id > {p(1)} AND id <= {p(2)} ORDER BY id LIMIT {p(3)}"
        )
        while watermark < upper:
            batch = source.frame(sql, (watermark, upper, batch_rows))
            if batch.height == 0:
                break
            first, last = watermark + 1, int(batch["id"].max())
            checked = check_events(batch, branch_codes, pseudonymiser)
            written = _land_batch(
                landing, checked, identity.database_id, first, last, settings.timezone
            )
            faults.fault_point(faults.BATCH_LANDED)
            record = state.database(identity.database_id)
            record.event_watermark = last
            record.last_events_run_at = now_utc().isoformat()
            store.commit(state)
            faults.fault_point(faults.WATERMARK_COMMITTED)
            watermark = last
            report.batches += 1
            table_report.add(
                checked.landed.height, checked.quarantined.height, written, checked.reasons
            )
            say(
                f"  batch {report.batches}: ids {first}-{last}: {checked.landed.height} landed, "
                f"{checked.quarantined.height} quarantined, {written} files"
            )
        report.watermark_after = watermark
        report.as_of = _local_date(position, settings.timezone)
        landing.ensure_quarantine_schema(CIRCULATION_EVENT)
    return report


def _local_date(position: FeedPosition, timezone: str) -> date | None:
    if position.last_occurred_at is None:
        return None
    return pl.Series([position.last_occurred_at]).dt.convert_time_zone(timezone).dt.date()[0]
