"""The landing contract: every landed table, its columns, their types and meaning.

This module is the single source of truth for the Parquet layout that dbt builds on.
Writers conform every frame to it before writing, and `LANDING.md` carries the same tables
rendered by `render_markdown()` (a test keeps the two identical).

Three kinds of table:
- `events`: the circulation event feed, appended incrementally, Hive-partitioned by
  `date`, the event's local date in Europe/Stockholm;
- `snapshot`: the lending core's slowly changing tables, read whole on every run and dated
  by the as-of date (`date`), the local date of the newest event in the feed when they were
  read. A table with a `key` lands as a **history**: only the rows new, changed or deleted
  since the last landed state (`ingestion/history.py`), so the landing grows with the
  changes, not with days x table size; the manifest lands whole on every as-of date;
- `reference`: files edited by people (population, budget, goals, KB statistics), one
  file replaced whole on every run, not partitioned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

UTC_TIMESTAMP = pl.Datetime("us", "UTC")
TableKind = Literal["events", "snapshot", "reference"]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    kind: TableKind
    grain: str
    columns: tuple[Column, ...]
    # The columns that name one row of a snapshot table. A table with a key lands as a
    # history of changes (only what is new, changed or deleted since the last landed
    # state); one without (the manifest) lands whole on every as-of date.
    key: tuple[str, ...] = ()

    @property
    def is_history(self) -> bool:
        return bool(self.key)

    @property
    def content_columns(self) -> list[str]:
        """The columns whose change makes a new version: all but the key and lineage."""
        return [c for c in self.column_names if c not in (*self.key, *_NOT_CONTENT)]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {column.name: column.dtype for column in self.columns}

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def about_patrons(self) -> bool:
        """Whether each row belongs to one patron (it carries their pseudonym)."""
        return "patron_key" in self.column_names

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame's contract columns, in contract order and types (missing ones null)."""
        return frame.select(
            [
                pl.col(c.name).cast(c.dtype)
                if c.name in frame.columns
                else pl.lit(None, c.dtype).alias(c.name)
                for c in self.columns
            ]
        )

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)


def _c(name: str, dtype: pl.DataType, description: str) -> Column:
    return Column(name, dtype, description)


TEXT, INTEGER, NUMBER = pl.String(), pl.Int64(), pl.Float64()
BOOLEAN, DATE, TIMESTAMP = pl.Boolean(), pl.Date(), UTC_TIMESTAMP

# Lineage columns on every row that comes from the lending core.
_DATABASE_ID = _c("database_id", TEXT, "identity (UUID) of the lending-core database read")
_SNAPSHOT_EVENT_ID = _c(
    "snapshot_event_id", INTEGER, "id of the newest event in the feed when the copy was taken"
)
_PATRON_KEY = _c(
    "patron_key", TEXT, "pseudonym: hex HMAC-SHA256 of `patron:<id>` under BIBBLA_PSEUDONYM_KEY"
)

# What a history row records: the state of its key on the as-of date of its partition.
CHANGE = _c(
    "change",
    TEXT,
    "new, changed or deleted: what happened to the row's key on this as-of date "
    "(a deleted row holds only its key)",
)
CHANGE_KINDS = ("new", "changed", "deleted")
_NOT_CONTENT = ("database_id", "snapshot_event_id", "change")

QUARANTINE_REASON = _c(
    "quarantine_reason", TEXT, "why the row broke the landing contract ('; ' between reasons)"
)

CIRCULATION_EVENT = Table(
    "circulation_event",
    "events",
    "one row per state change in the lending core (append-only feed)",
    (
        _DATABASE_ID,
        _c("id", INTEGER, "event id: gap-free and commit-ordered within one database"),
        _c("occurred_at", TIMESTAMP, "when it happened (UTC, from the lending core's clock)"),
        _c("type", TEXT, "event type, e.g. checkout, checkin, hold_placed (docs/domain.md)"),
        _c("branch_code", TEXT, "branch where it happened"),
        _c("item_id", INTEGER, "item concerned"),
        _c("title_id", INTEGER, "title concerned"),
        _PATRON_KEY,
        _c("loan_id", INTEGER, "loan concerned"),
        _c("hold_id", INTEGER, "hold concerned"),
        _c("transport_id", INTEGER, "transport concerned"),
        _c("from_branch_code", TEXT, "transport origin"),
        _c("to_branch_code", TEXT, "transport destination"),
        _c("due_at", TIMESTAMP, "due time of the loan (checkout, renew)"),
        _c("reason", TEXT, "transport reason, hold cancel reason, ..."),
        _c("details", TEXT, "JSON object with type-specific extras (never personal data)"),
    ),
)

MUNICIPALITY = Table(
    "municipality",
    "snapshot",
    "one row per municipality of the county",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("code", TEXT, "SCB municipality code"),
        _c("name", TEXT, "municipality name"),
        _c("county_code", TEXT, "SCB county code"),
    ),
    key=("code",),
)

MEMBERSHIP = Table(
    "membership",
    "snapshot",
    "one row per period a municipality shares the system (the membership timeline)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "membership id"),
        _c("municipality_code", TEXT, "member municipality"),
        _c("joined_on", DATE, "first day of sharing"),
        _c("left_on", DATE, "first day no longer sharing (exclusive); null while a member"),
        _c("note", TEXT, "free-text note from the reference file"),
    ),
    key=("id",),
)

BRANCH = Table(
    "branch",
    "snapshot",
    "one row per branch (library, service point, book bus, the van's hub)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("code", TEXT, "branch code"),
        _c("name", TEXT, "branch name"),
        _c("municipality_code", TEXT, "municipality the branch belongs to"),
        _c("kind", TEXT, "main, branch, bookbus, staffless or hub (hub lends nothing)"),
        _c("staffed_hours_per_week", NUMBER, "staffed opening hours per week"),
        _c("staffless_hours_per_week", NUMBER, "staffless (meröppet) opening hours per week"),
        _c("open_days", TEXT, "ISO weekdays open, '1' = Monday"),
        _c("latitude", NUMBER, "WGS84 latitude"),
        _c("longitude", NUMBER, "WGS84 longitude"),
    ),
    key=("code",),
)

VAN_ROUTE = Table(
    "van_route",
    "snapshot",
    "one row per van route (the hub route serves every pair without a direct route)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "route id"),
        _c("kind", TEXT, "hub or direct"),
        _c("municipality_a", TEXT, "one end of a direct route; null for the hub route"),
        _c("municipality_b", TEXT, "other end of a direct route; null for the hub route"),
        _c("weekdays", TEXT, "ISO weekdays the van runs, '1' = Monday"),
    ),
    key=("id",),
)

COLLECTION = Table(
    "collection",
    "snapshot",
    "one row per collection (part of the stock with one floating rule)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("code", TEXT, "collection code"),
        _c("name", TEXT, "collection name"),
        _c("floats", BOOLEAN, "items stay where they are returned"),
    ),
    key=("code",),
)

CIRCULATION_RULE = Table(
    "circulation_rule",
    "snapshot",
    "one row per media type and patron category",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("media_type", TEXT, "media type"),
        _c("patron_category", TEXT, "adult or child"),
        _c("loan_days", INTEGER, "loan period in days"),
        _c("loan_days_when_queued", INTEGER, "loan period when others queue for the title"),
        _c("max_renewals", INTEGER, "renewals allowed"),
        _c("max_loans", INTEGER, "loans a patron may have at once"),
    ),
    key=(
        "media_type",
        "patron_category",
    ),
)

TITLE = Table(
    "title",
    "snapshot",
    "one row per title in the shared catalogue",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "title id"),
        _c("isbn", TEXT, "ISBN where any"),
        _c("title", TEXT, "title"),
        _c("author", TEXT, "author"),
        _c("year", INTEGER, "publication year"),
        _c("media_type", TEXT, "book, audiobook, quick_loan, film, magazine"),
        _c("language", TEXT, "ISO 639 language code"),
        _c("audience", TEXT, "adult or child"),
        _c("collection_code", TEXT, "collection"),
        _c("added_at", TIMESTAMP, "when the title was added"),
    ),
    key=("id",),
)

ITEM = Table(
    "item",
    "snapshot",
    "one row per physical copy, with its status and location when the copy was taken",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "item id"),
        _c("barcode", TEXT, "barcode"),
        _c("title_id", INTEGER, "title"),
        _c("home_branch_code", TEXT, "owning branch"),
        _c("current_branch_code", TEXT, "where the item is"),
        _c("status", TEXT, "available, on_loan, in_transit, on_hold_shelf, lost, withdrawn"),
        _c("added_at", TIMESTAMP, "when the item was added"),
        _c("withdrawn_at", TIMESTAMP, "when the item was withdrawn"),
    ),
    key=("id",),
)

PATRON = Table(
    "patron",
    "snapshot",
    "one row per patron: non-personal attributes only (no name, contact, card or birth date)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _PATRON_KEY,
        _c("home_municipality_code", TEXT, "municipality of residence"),
        _c("home_branch_code", TEXT, "home branch"),
        _c("category", TEXT, "adult or child"),
        _c("registered_at", TIMESTAMP, "when the patron registered"),
        _c("age_band", TEXT, "0-15, 16-24, 25-44, 45-64 or 65+ on the as-of date; null if unknown"),
    ),
    key=("patron_key",),
)

OPEN_LOAN = Table(
    "open_loan",
    "snapshot",
    "one row per loan not yet returned",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "loan id"),
        _c("item_id", INTEGER, "item on loan"),
        _PATRON_KEY,
        _c("branch_code", TEXT, "checkout branch"),
        _c("checked_out_at", TIMESTAMP, "checkout time"),
        _c("due_at", TIMESTAMP, "due time"),
        _c("renewals", INTEGER, "renewals so far"),
        _c("hold_id", INTEGER, "hold the loan fulfilled, if any"),
    ),
    key=("id",),
)

ACTIVE_HOLD = Table(
    "active_hold",
    "snapshot",
    "one row per hold that is waiting, in transit or ready for pickup",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "hold id"),
        _c("title_id", INTEGER, "title reserved"),
        _PATRON_KEY,
        _c("pickup_branch_code", TEXT, "pickup branch"),
        _c("status", TEXT, "waiting, in_transit or ready"),
        _c("placed_at", TIMESTAMP, "when the hold was placed"),
        _c("item_id", INTEGER, "item trapped for the hold, if any"),
        _c("trapped_at", TIMESTAMP, "when an item was trapped"),
        _c("ready_at", TIMESTAMP, "when it became ready for pickup"),
        _c("expires_at", TIMESTAMP, "end of the pickup window"),
    ),
    key=("id",),
)

OPEN_TRANSPORT = Table(
    "open_transport",
    "snapshot",
    "one row per transport neither received nor lost",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "transport id"),
        _c("item_id", INTEGER, "item moving"),
        _c("from_branch_code", TEXT, "origin"),
        _c("to_branch_code", TEXT, "destination"),
        _c("reason", TEXT, "hold, return_home or rebalance"),
        _c("route", TEXT, "local, direct or hub"),
        _c("hold_id", INTEGER, "hold served, if any"),
        _c("requested_at", TIMESTAMP, "when the transport was requested"),
        _c("dispatched_at", TIMESTAMP, "when the van took it; null while waiting"),
    ),
    key=("id",),
)

SIMULATION_RUN = Table(
    "simulation_run",
    "snapshot",
    "one row per simulator run that filled the database (none for real data)",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        CHANGE,
        _c("id", INTEGER, "run id"),
        _c("seed", INTEGER, "random seed"),
        _c("scale", NUMBER, "population scale s: per-capita denominators use s x population"),
        _c("start_date", DATE, "first simulated day"),
        _c("end_date", DATE, "last simulated day"),
        _c("last_finished_day", DATE, "last day the simulator finished"),
        _c("scenario", TEXT, "scenario name"),
        _c("parameters", TEXT, "JSON object of the run's parameters"),
        _c("created_at", TIMESTAMP, "when the run was created"),
        _c("updated_at", TIMESTAMP, "when the run last changed"),
    ),
    key=("id",),
)

SNAPSHOT_MANIFEST = Table(
    "snapshot_manifest",
    "snapshot",
    "one row per snapshot: what the copies in this date partition describe",
    (
        _DATABASE_ID,
        _SNAPSHOT_EVENT_ID,
        _c("as_of", TIMESTAMP, "time of the newest event (the state the copies describe)"),
        _c("as_of_rule", TEXT, "newest_event, or database_created when the feed is empty"),
        _c("database_created_at", TIMESTAMP, "when the lending-core database was created"),
        _c(
            "is_simulated",
            BOOLEAN,
            "the database was filled by the simulator (simulation_run rows)",
        ),
        _c("taken_at", TIMESTAMP, "wall-clock time the copies were taken (informational)"),
    ),
)

_FILL = (
    _c("is_published", BOOLEAN, "true when the source gives a figure for this very year"),
    _c("source_year", INTEGER, "year whose published figure is used"),
    _c("fill_rule", TEXT, "published, or carried_forward (nearest earlier published year)"),
    _c("source", TEXT, "where the figure comes from"),
)

POPULATION = Table(
    "population",
    "reference",
    "one row per municipality and year, every year from the first published to the last needed",
    (
        _c("municipality_code", TEXT, "SCB municipality code"),
        _c("year", INTEGER, "calendar year (population on 31 December)"),
        _c("population_dec31", INTEGER, "inhabitants on 31 December"),
        *_FILL,
    ),
)

POPULATION_BY_AGE = Table(
    "population_by_age",
    "reference",
    "one row per municipality, year and age band (same years and rule as population)",
    (
        _c("municipality_code", TEXT, "SCB municipality code"),
        _c("year", INTEGER, "calendar year (population on 31 December)"),
        _c("age_band", TEXT, "0-15, 16-24, 25-44, 45-64 or 65+"),
        _c("population_dec31", INTEGER, "inhabitants of the band on 31 December"),
        *_FILL,
    ),
)

TRANSPORT_BUDGET = Table(
    "transport_budget",
    "reference",
    "one row per year: the region's budget for the county media transport",
    (
        _c("year", INTEGER, "calendar year"),
        _c("budget_sek", INTEGER, "yearly budget in SEK"),
        _c("is_estimate", BOOLEAN, "the figure is approximate ('about ...') in its source"),
        *_FILL,
    ),
)

GOAL_TARGET = Table(
    "goal_target",
    "reference",
    "one row per target of the 2024 goal (the only figures typed in by hand)",
    (
        _c("target_code", TEXT, "target identifier"),
        _c("description", TEXT, "what the target says"),
        _c("metric", TEXT, "metric the target is read from (docs/metrics.md)"),
        _c("comparison", TEXT, "how the metric meets the target: >=, <=, <, >, ="),
        _c("target_value", NUMBER, "target value of the metric"),
        _c("target_date", DATE, "date by which the target should be met"),
        _c("is_example", BOOLEAN, "value or date is an example, not from a source"),
        _c("source", TEXT, "where the target comes from"),
    ),
)

GOAL_MILESTONE = Table(
    "goal_milestone",
    "reference",
    "one row per milestone that leaves no trace in the lending core (and municipality)",
    (
        _c("milestone_code", TEXT, "joint_procurement or cooperation_agreement_approved"),
        _c("description", TEXT, "what the milestone is"),
        _c("municipality_code", TEXT, "council concerned; null for a consortium-wide milestone"),
        _c("target_date", DATE, "planned date"),
        _c("target_date_is_example", BOOLEAN, "target date is an example, not from a source"),
        _c("actual_date", DATE, "date it happened; null while pending"),
        _c("actual_date_is_example", BOOLEAN, "actual date is an example, not from a source"),
        _c("source", TEXT, "where the record comes from"),
    ),
)

KB_LIBRARY_STATISTICS = Table(
    "kb_library_statistics",
    "reference",
    "one row per library, year and variable of KB's open statistics (bibstat observation)",
    (
        _c("municipality_code", TEXT, "municipality the observation was fetched for"),
        _c("sample_year", INTEGER, "year the figures describe"),
        _c("library_id", TEXT, "bibdb library URI (sigel) or the library's name when it has none"),
        _c("library_name", TEXT, "library name"),
        _c("target_group", TEXT, "KB target group, e.g. Folkbibliotek"),
        _c("variable", TEXT, "bibstat term, e.g. Utlan399, Bestand199, Aktiv99, Population01"),
        _c("value", NUMBER, "reported value; null marks a missing or invalid answer"),
        _c("observation_id", TEXT, "bibstat observation @id"),
        _c("published", TIMESTAMP, "when KB published the observation"),
        _c("modified", TIMESTAMP, "when KB last modified it"),
        _c("is_example", BOOLEAN, "hand-made example data, not KB's figures"),
        _c("source_file", TEXT, "file under reference/kb_bibstat/ it was read from"),
    ),
)

EVENT_TABLES = (CIRCULATION_EVENT,)
SNAPSHOT_TABLES = (
    MUNICIPALITY,
    MEMBERSHIP,
    BRANCH,
    VAN_ROUTE,
    COLLECTION,
    CIRCULATION_RULE,
    TITLE,
    ITEM,
    PATRON,
    OPEN_LOAN,
    ACTIVE_HOLD,
    OPEN_TRANSPORT,
    SIMULATION_RUN,
    SNAPSHOT_MANIFEST,
)
# The snapshot tables landed as a history of changes (all but the manifest).
HISTORY_TABLES = tuple(table for table in SNAPSHOT_TABLES if table.is_history)
REFERENCE_TABLES = (
    POPULATION,
    POPULATION_BY_AGE,
    TRANSPORT_BUDGET,
    GOAL_TARGET,
    GOAL_MILESTONE,
    KB_LIBRARY_STATISTICS,
)
ALL_TABLES = EVENT_TABLES + SNAPSHOT_TABLES + REFERENCE_TABLES
TABLES = {table.name: table for table in ALL_TABLES}


def quarantine_table(table: Table) -> Table:
    """The quarantine layout of a table: its columns plus the reason."""
    # A quarantined row is a row as read, not a change: it has no `change`.
    columns = tuple(column for column in table.columns if column is not CHANGE)
    return Table(table.name, table.kind, table.grain, (*columns, QUARANTINE_REASON))


def _type_name(dtype: pl.DataType) -> str:
    names = {
        pl.String(): "VARCHAR",
        pl.Int64(): "BIGINT",
        pl.Float64(): "DOUBLE",
        pl.Boolean(): "BOOLEAN",
        pl.Date(): "DATE",
        UTC_TIMESTAMP: "TIMESTAMP WITH TIME ZONE (UTC, µs)",
    }
    return names[dtype]


_FILES = {
    "events": (
        "Files: `{name}/date=YYYY-MM-DD/part-<database_id>-<first id>-<last id>.parquet`, "
        "appended; `date` (DATE, from the path) is the local date (Europe/Stockholm) of "
        "`occurred_at`."
    ),
    "snapshot": (
        "Files: `{name}/date=YYYY-MM-DD/snapshot-<database_id>.parquet`, one per as-of date; "
        "`date` (DATE, from the path) is the as-of date of the copy."
    ),
    "reference": "File: `{name}/reference.parquet`, replaced whole on every run; not partitioned.",
    "history": (
        "Files: `{name}/date=YYYY-MM-DD/changes-<database_id>.parquet`, one per as-of date on "
        "which something changed: the rows new, changed or deleted since the state landed "
        "before that date (the first holds the whole table); `date` (DATE, from the path) is "
        "the as-of date from which the row is valid. Key: {key}."
    ),
}
LANDING_DOC_START = "<!-- contract:start (generated by `python -m ingestion.landing_doc`) -->"
LANDING_DOC_END = "<!-- contract:end -->"


def render_markdown() -> str:
    """The contract's tables as Markdown (the generated section of LANDING.md)."""
    lines: list[str] = []
    for table in ALL_TABLES:
        kind = "history" if table.is_history else table.kind
        files = _FILES[kind].format(
            name=table.name, key=", ".join(f"`{column}`" for column in table.key)
        )
        lines += [f"### `{table.name}` ({kind})", ""]
        lines += [f"Grain: {table.grain}. " + files, ""]
        lines += ["| column | type (DuckDB) | meaning |", "| --- | --- | --- |"]
        for column in table.columns:
            lines.append(f"| `{column.name}` | {_type_name(column.dtype)} | {column.description} |")
        lines.append("")
    return "\n".join(lines)


def landing_doc_section() -> str:
    """The generated section as it appears in LANDING.md, between its markers."""
    return f"{LANDING_DOC_START}\n\n{render_markdown()}\n{LANDING_DOC_END}"
