"""Snapshots of the lending core's slowly changing tables, for reconciliation.

History (stock at a month's end, who was a member when) is rebuilt downstream from the
event feed; the snapshots say what the lending core itself holds, so that dbt can check
that the events add up to the same state.

What `date` means for a snapshot: the **as-of date of the data**, not the wall clock.
Every state change in the lending core writes an event in the same transaction, so the
tables read in this run's transaction describe the state right after the newest event in
the feed: `as_of` is that event's time and `date` its local date (Europe/Stockholm). For
simulated data this is the simulated day, not the day the simulator ran. An empty feed
falls back to the database's creation time. (Reference data reloaded by `bibbla db init`
changes tables without an event; the next snapshot shows it, dated by the newest event.)

What lands: a table with a key (all but the manifest) lands only its changes since the
last landed state, as a history (`ingestion/history.py`); the manifest lands whole, one row
per as-of date. Taking a snapshot again for the same as-of date replaces that date's
files, so there is one state per table and as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from bibbla.config import Settings
from ingestion import contract, files, history, validation
from ingestion.contract import Table, quarantine_table
from ingestion.errors import LandingInconsistent, landing_writes
from ingestion.events import Progress
from ingestion.landing import Landing
from ingestion.pseudonyms import Pseudonymiser, age_band
from ingestion.report import RunReport
from ingestion.run import landing_run
from ingestion.source import now_utc


@dataclass(frozen=True)
class SnapshotSource:
    """How one snapshot table is read from the lending core and checked."""

    table: Table
    sql: str
    keys: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    # Read as patron_id and pseudonymised to patron_key before anything is written.
    has_patron: bool = False
    # The lending-core table, when it may be missing from an older schema.
    optional_table: str | None = None


SOURCES = (
    SnapshotSource(
        contract.MUNICIPALITY,
        "SELECT code, name, county_code FROM municipality",
        keys=("code",),
    ),
    SnapshotSource(
        contract.MEMBERSHIP,
        "SELECT id, municipality_code, joined_on, left_on, note FROM membership",
        keys=("id", "municipality_code", "joined_on"),
        municipalities=("municipality_code",),
    ),
    SnapshotSource(
        contract.BRANCH,
        "SELECT code, name, municipality_code, kind, staffed_hours_per_week, "
        "staffless_hours_per_week, open_days, latitude, longitude FROM branch",
        keys=("code", "municipality_code", "kind"),
        municipalities=("municipality_code",),
    ),
    SnapshotSource(
        contract.VAN_ROUTE,
        "SELECT id, kind, municipality_a, municipality_b, weekdays FROM van_route",
        keys=("id", "kind"),
        municipalities=("municipality_a", "municipality_b"),
    ),
    SnapshotSource(
        contract.COLLECTION,
        "SELECT code, name, floats FROM collection",
        keys=("code",),
    ),
    SnapshotSource(
        contract.CIRCULATION_RULE,
        "SELECT media_type, patron_category, loan_days, loan_days_when_queued, "
        "max_renewals, max_loans FROM circulation_rule",
        keys=("media_type", "patron_category"),
    ),
    SnapshotSource(
        contract.TITLE,
        "SELECT id, isbn, title, author, year, media_type, language, audience, "
        "collection_code, added_at FROM title",
        keys=("id", "media_type"),
        timestamps=("added_at",),
    ),
    SnapshotSource(
        contract.ITEM,
        "SELECT id, barcode, title_id, home_branch_code, current_branch_code, status, "
        "added_at, withdrawn_at FROM item",
        keys=("id", "title_id", "home_branch_code", "current_branch_code", "status"),
        branches=("home_branch_code", "current_branch_code"),
        timestamps=("added_at", "withdrawn_at"),
    ),
    # Name, e-mail, phone and card number are not even selected (validation.check_selection
    # refuses them); the birth date is read only to compute the age band and dropped before
    # anything is written (privacy/rules.py says which is which).
    SnapshotSource(
        contract.PATRON,
        "SELECT id AS patron_id, home_municipality_code, home_branch_code, category, "
        "registered_at, birth_date FROM patron",
        keys=("patron_id", "home_municipality_code", "category"),
        branches=("home_branch_code",),
        municipalities=("home_municipality_code",),
        timestamps=("registered_at",),
        has_patron=True,
    ),
    SnapshotSource(
        contract.OPEN_LOAN,
        "SELECT id, item_id, patron_id, branch_code, checked_out_at, due_at, renewals, "
        "hold_id FROM loan WHERE returned_at IS NULL",
        keys=("id", "item_id", "patron_id", "checked_out_at", "due_at"),
        branches=("branch_code",),
        timestamps=("checked_out_at", "due_at"),
        has_patron=True,
    ),
    SnapshotSource(
        contract.ACTIVE_HOLD,
        "SELECT id, title_id, patron_id, pickup_branch_code, status, placed_at, item_id, "
        "trapped_at, ready_at, expires_at FROM hold "
        "WHERE status IN ('waiting', 'in_transit', 'ready')",
        keys=("id", "title_id", "patron_id", "pickup_branch_code", "placed_at"),
        branches=("pickup_branch_code",),
        timestamps=("placed_at", "trapped_at", "ready_at", "expires_at"),
        has_patron=True,
    ),
    SnapshotSource(
        contract.OPEN_TRANSPORT,
        "SELECT id, item_id, from_branch_code, to_branch_code, reason, route, hold_id, "
        "requested_at, dispatched_at FROM transport "
        "WHERE received_at IS NULL AND lost_at IS NULL",
        keys=("id", "item_id", "from_branch_code", "to_branch_code", "requested_at"),
        branches=("from_branch_code", "to_branch_code"),
        timestamps=("requested_at", "dispatched_at"),
    ),
    SnapshotSource(
        contract.SIMULATION_RUN,
        "SELECT id, seed, scale, start_date, end_date, last_finished_day, scenario, "
        "CAST(parameters AS TEXT) AS parameters, created_at, updated_at FROM simulation_run",
        keys=("id", "scale", "start_date", "end_date"),
        optional_table="simulation_run",
    ),
)


@dataclass(frozen=True)
class AsOf:
    moment: datetime
    day: date
    rule: str


def _as_of(moment: datetime, rule: str, timezone: str) -> AsOf:
    local = pl.Series([moment]).dt.convert_time_zone(timezone).dt.date()[0]
    return AsOf(moment, local, rule)


def _check(
    source: SnapshotSource,
    frame: pl.DataFrame,
    *,
    branch_codes: set[str],
    municipality_codes: set[str],
    as_of: AsOf,
    pseudonymiser: Pseudonymiser,
) -> validation.Checked:
    validation.check_selection(source.table, frame.columns)
    schema = dict(source.table.schema)
    if source.has_patron:
        schema["patron_id"] = pl.Int64()
    if "birth_date" in frame.columns:
        schema["birth_date"] = pl.Date()
    typed, checks = validation.coerce(frame, schema)
    checks += validation.required(source.keys)
    checks += validation.known_branch(source.branches, branch_codes)
    checks += validation.plausible_time(source.timestamps)
    known = pl.Series(sorted(municipality_codes), dtype=pl.String).implode()
    checks += [
        pl.when(pl.col(c).is_not_null() & ~pl.col(c).is_in(known)).then(
            pl.lit(f"{c} is not a known municipality")
        )
        for c in source.municipalities
    ]
    if "birth_date" in typed.columns:
        checks.append(
            pl.when(pl.col("birth_date") > pl.lit(as_of.day)).then(
                pl.lit("birth_date is after the as-of date")
            )
        )
        typed = typed.with_columns(age_band(pl.col("birth_date"), as_of.day).alias("age_band"))
    if source.has_patron:
        typed = typed.with_columns(
            pseudonymiser.patron_keys(typed["patron_id"]).alias("patron_key")
        )
    if source.table.key:
        # One row per key: a history can only say what happened to a key it can tell apart.
        key = list(source.table.key)
        checks.append(
            pl.when(pl.struct(key).is_duplicated()).then(pl.lit(f"{', '.join(key)} is not unique"))
        )
    # Identifying columns were needed by the checks; they go no further.
    return validation.drop_personal(validation.split(typed, checks))


@landing_writes
def land_snapshots(settings: Settings, *, progress: Progress | None = None) -> RunReport:
    """Copy the lending core's slowly changing tables into `landing/<table>/date=<as-of>/`.

    Returns rows landed and quarantined per table. Refuses, landing nothing, when the
    database or pseudonym key differs from the landing's (run events with a full refresh).
    """
    say = progress or (lambda _message: None)

    with landing_run(settings, "snapshots") as run:
        source, landing, store, state = run.source, run.landing, run.store, run.state
        identity, position, report = run.identity, run.position, run.report
        if position.last_occurred_at is not None:
            as_of = _as_of(position.last_occurred_at, "newest_event", settings.timezone)
        else:
            as_of = _as_of(identity.created_at or now_utc(), "database_created", settings.timezone)
        report.as_of = as_of.day
        say(f"snapshots: database {identity.database_id}, as of {as_of.moment} ({as_of.day})")

        branch_codes = set(source.frame("SELECT code FROM branch")["code"].to_list())
        municipality_codes = set(source.frame("SELECT code FROM municipality")["code"].to_list())
        pseudonymiser = Pseudonymiser(run.key)
        lineage = [
            pl.lit(identity.database_id).alias("database_id"),
            pl.lit(position.last_event_id, pl.Int64).alias("snapshot_event_id"),
        ]
        pending = []
        simulated = False
        for snapshot in SOURCES:
            if snapshot.optional_table and not source.has_table(snapshot.optional_table):
                frame = snapshot.table.empty()
                report.notes.append(f"{snapshot.optional_table}: table absent (older schema)")
            else:
                frame = source.frame(snapshot.sql)
            checked = _check(
                snapshot,
                frame,
                branch_codes=branch_codes,
                municipality_codes=municipality_codes,
                as_of=as_of,
                pseudonymiser=pseudonymiser,
            )
            if snapshot.table is contract.SIMULATION_RUN:
                simulated = checked.landed.height + checked.quarantined.height > 0
            landed = _changes_since_landed(
                landing, snapshot.table, checked.landed, lineage, identity.database_id, as_of
            )
            pending += _stage(
                landing, snapshot.table, checked, landed, lineage, identity.database_id, as_of
            )
            report.table(snapshot.table.name).add(
                landed.height, checked.quarantined.height, 0, checked.reasons
            )
            say(
                f"  {snapshot.table.name:<18} {checked.landed.height:>8} rows, "
                f"{landed.height:>8} changes landed"
                + (
                    f", {checked.quarantined.height} quarantined"
                    if checked.quarantined.height
                    else ""
                )
            )

        manifest = pl.DataFrame(
            {
                "as_of": [as_of.moment],
                "as_of_rule": [as_of.rule],
                "database_created_at": [identity.created_at],
                "is_simulated": [simulated],
                "taken_at": [now_utc()],
            }
        ).with_columns(lineage)
        pending += _stage(
            landing,
            contract.SNAPSHOT_MANIFEST,
            validation.Checked(manifest, manifest.head(0)),
            contract.SNAPSHOT_MANIFEST.conform(manifest),
            [],
            identity.database_id,
            as_of,
        )
        report.table(contract.SNAPSHOT_MANIFEST.name).add(1, 0, 0, {})

        # Every file of the snapshot is durable before the first one replaces its old copy.
        files.publish((temporary, final) for _, temporary, final in pending if temporary)
        for table_name, temporary, final in pending:
            if temporary is None:
                final.unlink(missing_ok=True)  # an old quarantine this snapshot no longer has
            else:
                report.table(table_name).files_written += 1
        for snapshot in SOURCES:
            landing.ensure_quarantine_schema(snapshot.table)

        state.database(identity.database_id).last_snapshot_as_of = as_of.day.isoformat()
        store.commit(state)
    return report


def _changes_since_landed(
    landing: Landing,
    table: Table,
    rows: pl.DataFrame,
    lineage: list[pl.Expr],
    database_id: str,
    as_of: AsOf,
) -> pl.DataFrame:
    """What lands for a table on this as-of date: its changes against the state landed
    before the date (a history table), or the whole table (the manifest)."""
    current = table.conform(rows.with_columns(lineage))
    if not table.is_history:
        return current
    folder = landing.root / table.name
    if folder.is_dir() and any(folder.glob("date=*/snapshot-*.parquet")):
        raise LandingInconsistent(
            f"{folder} holds daily copies (the landing layout before change-only landing); "
            "run `bibbla ingest compact` once to turn them into the change history"
        )
    later = [day for day, _ in history.change_files(folder) if day > as_of.day]
    if later:
        raise LandingInconsistent(
            f"{folder} holds changes as of {later[-1]}, after this run's as-of date "
            f"{as_of.day}: the lending core went back in time. Run `bibbla ingest "
            "--full-refresh` to land it again"
        )
    landed = history.read_history(folder, table, before=as_of.day)
    landed = landed.filter(pl.col("database_id") == database_id)
    previous = history.state_on(landed, table)
    return history.changes(previous, current, table, lineage)


def _stage(
    landing: Landing,
    table: Table,
    checked: validation.Checked,
    landed: pl.DataFrame,
    lineage: list[pl.Expr],
    database_id: str,
    as_of: AsOf,
) -> list[tuple[str, Path | None, Path]]:
    """Write what lands of a table (and its quarantine) to temporary files; returns
    (table, temporary, final) to publish, with temporary None for a file to remove (a
    history with no change on this date has no file for it, except its first)."""
    staged = []
    if table.is_history:
        final = landing.changes_file(table.name, as_of.day, database_id)
        # The first file of a history is written even without rows, so that a reader's
        # glob over the table finds a file (and its schema) from the first run on.
        first = not any(day < as_of.day for day, _ in history.change_files(final.parent.parent))
        if landed.height or first:
            staged.append((table.name, files.write_parquet_temporary(landed, final), final))
        else:
            staged.append((table.name, None, final))
    else:
        final = landing.snapshot_file(table.name, as_of.day, database_id)
        staged.append((table.name, files.write_parquet_temporary(landed, final), final))
    quarantine_final = landing.snapshot_quarantine_file(table.name, as_of.day, database_id)
    if checked.quarantined.height:
        rows = quarantine_table(table).conform(checked.quarantined.with_columns(lineage))
        temporary = files.write_parquet_temporary(rows, quarantine_final)
        staged.append((table.name, temporary, quarantine_final))
    else:
        staged.append((table.name, None, quarantine_final))
    return staged
