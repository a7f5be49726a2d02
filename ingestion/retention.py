"""Retention of patron keys: events older than `BIBBLA_RETENTION_MONTHS` lose them.

A patron key (LANDING.md, "Personal data") links everything one person borrowed and
reserved. The consortium keeps that link for `BIBBLA_RETENTION_MONTHS` (default 36) and
then removes it, from the landing and from the warehouse's facts, while every published
aggregate stays exactly what it was. One run (`bibbla ingest retention`, or the Dagster
asset on its monthly schedule):

1. **Cutoff.** `retention_cutoff`: the first day of the month `months` before the month of
   the newest landed event, moved back to 1 January when it would fall inside the year of
   the newest event. Counted from the data, not from the wall clock, so that one landing
   gives one cutoff whenever (and however often) it runs, a re-run changes nothing, and a
   landing that stopped receiving events keeps the history it ends with. Whole months,
   because the warehouse reports by month and year. Never inside a year that has not
   ended, because a year's count of distinct people can only be frozen once the year is
   complete; a year that began before the cutoff has ended, so its counts are final.
2. **Freeze** (the warehouse, before any key goes): what only the keys can tell is
   appended to the warehouse's `retention` schema, which no build ever rebuilds — each
   loan's and hold's patron municipality and category, and the counts of distinct people
   of every period that begins before the cutoff (dbt_project/models/retention/). dbt
   tests then check that everything expired was frozen; if not, nothing is touched.
3. **Landing.** Every landed file holding a patron key dated before the cutoff is
   rewritten with `patron_key` null, atomically (a temporary file renamed into place, as
   everywhere in ingestion): the event partitions before the cutoff; in the `patron`,
   `open_loan` and `active_hold` histories the rows no state landed from the cutoff on
   holds (versions ended, and deletions dated, on or before the first as-of date from the
   cutoff on), exactly what the daily copies dated before the cutoff lost (a version
   still in a state from the cutoff on keeps its key, as the copies taken then did); the
   quarantined rows of those tables from before it; and the same under `_superseded/`.
4. **Warehouse.** A `dbt build`: the incremental facts rebuild every month whose landed
   keys are gone (so the keys leave `fct_loans` and `fct_holds` too), and the people
   counts of frozen periods come from the frozen rows, so every mart is unchanged.

A run that finds nothing left to clear, in the landing or in the facts, changes nothing.
Killed at any point, the next run finishes the work: frozen rows are appended only for
what is not frozen yet, a file is either rewritten whole or not at all, and the facts
rebuild whatever months still hold keys the landing no longer has.

This module knows the landing; the warehouse side comes in through `RetentionWarehouse`
(warehouse/retention.py implements it with dbt), so ingestion never runs dbt itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

import polars as pl
import pyarrow.parquet as pq

from bibbla.config import Settings
from ingestion import files, history
from ingestion.contract import EVENT_TABLES, SNAPSHOT_MANIFEST, SNAPSHOT_TABLES, Table
from ingestion.errors import IngestionError, landing_writes
from ingestion.landing import (
    BATCH_FILE,
    QUARANTINE,
    QUARANTINED_SNAPSHOT_FILE,
    SUPERSEDED,
)
from ingestion.source import now_utc
from ingestion.state import StateStore

Progress = Callable[[str], None]
PATRON_KEY = "patron_key"
STEP = "retention"
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
# The landed tables that carry a patron key, by kind (from the contract).
KEYED_EVENT_TABLES: tuple[Table, ...] = tuple(
    table for table in EVENT_TABLES if PATRON_KEY in table.column_names
)
KEYED_SNAPSHOT_TABLES: tuple[Table, ...] = tuple(
    table for table in SNAPSHOT_TABLES if PATRON_KEY in table.column_names
)


class RetentionRefused(IngestionError):
    """The retention rule cannot run safely now; nothing was changed."""


class RetentionIncomplete(IngestionError):
    """The landing has lost its keys before the cutoff but the warehouse still holds some."""


class RetentionWarehouse(Protocol):
    """The warehouse side of a retention run (warehouse.retention.DbtRetentionWarehouse)."""

    def exists(self) -> bool:
        """Whether there is a built warehouse (facts) to freeze the aggregates in."""
        ...

    def keyed_rows_before(self, cutoff: date) -> dict[str, int]:
        """Rows of each fact dated before the cutoff that still hold a patron key."""
        ...

    def freeze(self, cutoff: date) -> dict[str, int]:
        """Freeze what the keys before the cutoff count, and check that everything expired
        was frozen (raising if not); returns the rows appended per retention model."""
        ...

    def rebuild(self) -> None:
        """Build the warehouse from the landing as it now is (`dbt build`)."""
        ...


# -- the cutoff -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionCutoff:
    """The first day whose events keep their patron keys, and how it was found."""

    newest_event_date: date
    months: int
    month_cutoff: date
    cutoff: date

    @property
    def moved_to_year_start(self) -> bool:
        return self.cutoff != self.month_cutoff

    def explain(self) -> str:
        text = (
            f"cutoff {self.cutoff}: {_months(self.months)} before the month of the newest "
            f"landed event ({self.newest_event_date})"
        )
        if self.moved_to_year_start:
            text += (
                f" is {self.month_cutoff}, inside {self.newest_event_date.year}, a year that "
                "has not ended: moved back to its 1 January"
            )
        return text


def _months(count: int) -> str:
    return f"{count} month" if count == 1 else f"{count} months"


def retention_cutoff(newest_event_date: date, months: int) -> RetentionCutoff:
    """The retention cutoff for a landing whose newest event is on `newest_event_date`.

    The first day of the month `months` months before that event's month; when that day
    falls inside the newest event's year (only possible for fewer than 12 months), 1
    January of that year instead, since the year has not ended. Events dated before the
    cutoff lose their patron keys. E.g. newest event 2027-03-15, 36 months: 2024-03-01;
    newest 2025-01-20, 1 month: 2024-12-01; newest 2025-05-15, 2 months: 2025-03-01 is
    inside 2025, so 2025-01-01 (nothing of 2025 loses its keys before 2026).
    """
    if months < 1:
        raise ValueError(f"retention must be at least one month, not {months}")
    index = newest_event_date.year * 12 + (newest_event_date.month - 1) - months
    month_cutoff = date(index // 12, index % 12 + 1, 1)
    cutoff = month_cutoff
    if month_cutoff.year == newest_event_date.year:
        cutoff = date(newest_event_date.year, 1, 1)
    return RetentionCutoff(newest_event_date, months, month_cutoff, cutoff)


def newest_event_date(landing_root: Path) -> date | None:
    """The local date of the newest landed event: the greatest `date=` partition of the
    event table that holds a file (the folder names suffice; no file is read)."""
    newest: date | None = None
    for table in EVENT_TABLES:
        folder = landing_root / table.name
        if not folder.is_dir():
            continue
        for partition in folder.iterdir():
            match = _PARTITION.match(partition.name)
            if not match or not any(_visible_parquet(partition)):
                continue
            day = date.fromisoformat(match[1])
            newest = day if newest is None or day > newest else newest
    return newest


# -- what holds keys before the cutoff -------------------------------------------------


FileKind = Literal["events", "snapshot", "history", "quarantined_events", "quarantined_snapshot"]


@dataclass(frozen=True)
class KeyedFile:
    """A landed file with patron keys dated before the cutoff, and how many."""

    path: Path
    table: str
    kind: FileKind
    keys: int

    @property
    def label(self) -> str:
        """Where the keys are counted in the report: the table, or its quarantine."""
        return f"{QUARANTINE}/{self.table}" if self.kind.startswith("quarantined") else self.table


def _visible_parquet(folder: Path) -> Iterator[Path]:
    """The Parquet files of a folder that readers see (not the hidden temporary ones)."""
    for path in folder.glob("*.parquet"):
        if not path.name.startswith("."):
            yield path


def _expired_partitions(folder: Path, cutoff: date) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for partition in sorted(folder.iterdir()):
        match = _PARTITION.match(partition.name)
        if match and date.fromisoformat(match[1]) < cutoff:
            yield partition


def _column_statistics(path: Path, column: str) -> tuple[int, int | None]:
    """(rows, non-null values of `column`) from the file's footer; None when the footer
    has no null counts (then the column has to be read)."""
    metadata = pq.ParquetFile(path).metadata
    names = metadata.schema.names
    if column not in names:
        return metadata.num_rows, 0
    index = names.index(column)
    present = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        statistics = row_group.column(index).statistics
        if statistics is None or not statistics.has_null_count:
            return metadata.num_rows, None
        present += row_group.num_rows - statistics.null_count
    return metadata.num_rows, present


def _keys_in_file(path: Path) -> int:
    """How many rows of a landed file hold a patron key (from the footer when it can)."""
    _rows, present = _column_statistics(path, PATRON_KEY)
    if present is None:
        frame = pl.read_parquet(path, columns=[PATRON_KEY], hive_partitioning=False)
        present = frame.height - frame[PATRON_KEY].null_count()
    return present


def _highest_id(paths: list[Path]) -> int:
    """The highest event id in these files (from the footers' statistics when present)."""
    highest = 0
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        if "id" not in metadata.schema.names or metadata.num_rows == 0:
            continue
        index = metadata.schema.names.index("id")
        groups = [
            metadata.row_group(group).column(index).statistics
            for group in range(metadata.num_row_groups)
        ]
        if all(statistics is not None and statistics.has_min_max for statistics in groups):
            highest = max([highest, *(int(statistics.max) for statistics in groups)])
        else:
            frame = pl.read_parquet(path, columns=["id"], hive_partitioning=False)
            highest = max(highest, int(frame["id"].max() or 0))
    return highest


def _expired_quarantined_events(
    frame: pl.DataFrame, cutoff: date, timezone: str, batch_last_id: int | None, highest: int
) -> pl.Series:
    """Which quarantined event rows are dated before the cutoff: by the local date of
    `occurred_at` where it is usable; otherwise by their batch (ids are commit-ordered, so
    a batch that ends at or below the highest id landed before the cutoff is older)."""
    by_batch = batch_last_id is not None and batch_last_id <= highest
    occurred = frame["occurred_at"] if "occurred_at" in frame.columns else None
    if occurred is None or occurred.dtype == pl.Null:
        return pl.Series([by_batch] * frame.height, dtype=pl.Boolean)
    local_day = occurred.dt.convert_time_zone(timezone).dt.date()
    return (local_day < cutoff).fill_null(by_batch)


def _landing_roots(root: Path) -> list[Path]:
    """The landing and every landing a full refresh moved aside (same layout)."""
    roots = [root]
    superseded = root / SUPERSEDED
    if superseded.is_dir():
        roots += sorted(path for path in superseded.iterdir() if path.is_dir())
    return roots


def find_keyed_files(root: Path, cutoff: date, timezone: str) -> list[KeyedFile]:
    """Every landed file under `root` (and `_superseded/`) that holds a patron key dated
    before the cutoff."""
    found: list[KeyedFile] = []
    for base in _landing_roots(root):
        for table in KEYED_EVENT_TABLES:
            expired_event_files: list[Path] = []
            for partition in _expired_partitions(base / table.name, cutoff):
                for path in sorted(_visible_parquet(partition)):
                    expired_event_files.append(path)
                    keys = _keys_in_file(path)
                    if keys:
                        found.append(KeyedFile(path, table.name, "events", keys))
            highest = _highest_id(expired_event_files)
            quarantine = base / QUARANTINE / table.name
            for path in sorted(_visible_parquet(quarantine)) if quarantine.is_dir() else []:
                if not _keys_in_file(path):
                    continue
                keys = _quarantined_event_keys(path, cutoff, timezone, highest)
                if keys:
                    found.append(KeyedFile(path, table.name, "quarantined_events", keys))
        for table in KEYED_SNAPSHOT_TABLES:
            if table.is_history:
                for path, expired in _expired_history_rows(base / table.name, table, cutoff):
                    keys = int(expired.sum())
                    if keys:
                        found.append(KeyedFile(path, table.name, "history", keys))
            # Daily copies (the layout before the history, e.g. under _superseded/).
            for partition in _expired_partitions(base / table.name, cutoff):
                for path in sorted(_visible_parquet(partition)):
                    if not path.name.startswith("snapshot-"):
                        continue
                    keys = _keys_in_file(path)
                    if keys:
                        found.append(KeyedFile(path, table.name, "snapshot", keys))
            quarantine = base / QUARANTINE / table.name
            for path in sorted(_visible_parquet(quarantine)) if quarantine.is_dir() else []:
                match = QUARANTINED_SNAPSHOT_FILE.match(path.name)
                if not match or date.fromisoformat(match["date"]) >= cutoff:
                    continue
                keys = _keys_in_file(path)
                if keys:
                    found.append(KeyedFile(path, table.name, "quarantined_snapshot", keys))
    return found


def _first_as_of_from(base: Path, cutoff: date) -> date | None:
    """The first as-of date (a snapshot manifest partition) on or after the cutoff."""
    days = [
        date.fromisoformat(match[1])
        for partition in (base / SNAPSHOT_MANIFEST.name).glob("date=*")
        if (match := _PARTITION.match(partition.name)) and any(_visible_parquet(partition))
    ]
    later = [day for day in days if day >= cutoff]
    return min(later) if later else None


def _expired_history_rows(folder: Path, table: Table, cutoff: date) -> list[tuple[Path, pl.Series]]:
    """Per change file of a history table, which rows hold a patron key dated before the
    cutoff: the rows in no state landed from the cutoff on. The states landed are those
    of the as-of dates, so with `boundary` the first as-of date on or after the cutoff: a
    version whose next row (a change or a deletion) is dated on or before the boundary,
    and a deletion dated on or before it. This is exactly what the daily copies lost, the
    copies dated before the cutoff: a version kept its key where a copy from the cutoff
    on held it, and so does it here. (With no as-of date from the cutoff on, the cutoff
    itself is the boundary: the current state keeps its keys.)"""
    boundary = _first_as_of_from(folder.parent, cutoff) or cutoff
    frames = []
    for number, (day, path) in enumerate(history.change_files(folder)):
        frame = pl.read_parquet(
            path, columns=list(dict.fromkeys([*table.key, PATRON_KEY, "change"]))
        )
        frames.append(
            frame.with_columns(
                pl.lit(day).alias("__day"),
                pl.lit(number).alias("__file"),
                pl.int_range(pl.len()).alias("__row"),
            )
        )
    if not frames:
        return []
    rows = pl.concat(frames, how="vertical_relaxed")
    key = list(table.key)
    present = pl.all_horizontal(pl.col(k).is_not_null() for k in key)
    ended = (
        rows.filter(present)
        .sort("__file", "__row")
        .with_columns(pl.col("__day").shift(-1).over(key).alias("__ends"))
    )
    expired = pl.col(PATRON_KEY).is_not_null() & pl.when(pl.col("change") == "deleted").then(
        pl.col("__day") <= boundary
    ).otherwise(pl.col("__ends").is_not_null() & (pl.col("__ends") <= boundary))
    marked = rows.join(
        ended.select("__file", "__row", expired.alias("__expired")),
        on=["__file", "__row"],
        how="left",
    ).sort("__file", "__row")
    paths = [path for _, path in history.change_files(folder)]
    return [
        (
            paths[number],
            part["__expired"].fill_null(False),
        )
        for (number,), part in marked.partition_by("__file", as_dict=True).items()
    ]


def _batch_last_id(path: Path) -> int | None:
    match = BATCH_FILE.match(path.name)
    return int(match["last"]) if match else None


def _quarantined_event_keys(path: Path, cutoff: date, timezone: str, highest: int) -> int:
    frame = pl.read_parquet(path, hive_partitioning=False)
    expired = _expired_quarantined_events(frame, cutoff, timezone, _batch_last_id(path), highest)
    return int((expired & frame[PATRON_KEY].is_not_null()).sum())


# -- clearing them ---------------------------------------------------------------------


def _cleared(frame: pl.DataFrame, expired: pl.Series | None = None) -> pl.DataFrame:
    """The frame with the patron key removed (from the expired rows only, when given);
    every other column and the column order stay as they were."""
    dtype = frame.schema[PATRON_KEY]
    if expired is None:
        return frame.with_columns(pl.lit(None, dtype=dtype).alias(PATRON_KEY))
    return frame.with_columns(
        pl.when(pl.lit(expired))
        .then(pl.lit(None, dtype=dtype))
        .otherwise(pl.col(PATRON_KEY))
        .alias(PATRON_KEY)
    )


@landing_writes
def clear_landing_keys(
    settings: Settings,
    cutoff: date,
    keyed: list[KeyedFile],
    *,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rewrite each of these files with the patron keys dated before the cutoff removed
    (written under a temporary name, flushed and renamed into place); returns the keys
    removed per table. The caller holds the landing's lock."""
    say = progress or (lambda _message: None)
    cleared: dict[str, int] = {}
    root = settings.landing_path
    highest_by_base: dict[Path, int] = {}
    expired_by_folder: dict[Path, dict[Path, pl.Series]] = {}
    pending: list[tuple[Path, Path]] = []
    for number, item in enumerate(keyed, start=1):
        frame = pl.read_parquet(item.path, hive_partitioning=False)
        if item.kind == "quarantined_events":
            base = item.path.parents[2]  # <base>/_quarantine/<table>/<file>
            if base not in highest_by_base:
                expired_files = [
                    path
                    for partition in _expired_partitions(base / item.table, cutoff)
                    for path in _visible_parquet(partition)
                ]
                highest_by_base[base] = _highest_id(expired_files)
            expired = _expired_quarantined_events(
                frame, cutoff, settings.timezone, _batch_last_id(item.path), highest_by_base[base]
            )
            removed = int((expired & frame[PATRON_KEY].is_not_null()).sum())
            rewritten = _cleared(frame, expired)
        elif item.kind == "history":
            folder = item.path.parents[1]  # <base>/<table>/date=.../<file>
            if folder not in expired_by_folder:
                contract_table = next(t for t in KEYED_SNAPSHOT_TABLES if t.name == item.table)
                expired_by_folder[folder] = dict(
                    _expired_history_rows(folder, contract_table, cutoff)
                )
            expired = expired_by_folder[folder][item.path]
            removed = int(expired.sum())
            rewritten = _cleared(frame, expired)
        else:
            removed = frame.height - frame[PATRON_KEY].null_count()
            rewritten = _cleared(frame)
        pending.append((files.write_parquet_temporary(rewritten, item.path), item.path))
        cleared[item.label] = cleared.get(item.label, 0) + removed
        # Renamed into place a few at a time, so a long run shows (and keeps) its progress.
        if len(pending) >= 50 or number == len(keyed):
            files.publish(pending)
            pending = []
            say(f"  landing: {number} of {len(keyed)} files rewritten")
    say(
        f"  landing: {sum(cleared.values())} patron keys removed from {len(keyed)} files "
        f"under {root}"
    )
    return cleared


# -- one run ---------------------------------------------------------------------------


@dataclass
class RetentionReport:
    """What a retention run found and did (printed by the CLI, shown on the Dagster asset,
    appended to landing/_state/runs.jsonl)."""

    started_at: datetime
    retention_months: int
    dry_run: bool = False
    finished_at: datetime | None = None
    newest_event_date: date | None = None
    month_cutoff: date | None = None
    cutoff: date | None = None
    files_rewritten: int = 0
    keys_cleared: dict[str, int] = field(default_factory=dict)
    warehouse_keys_before: dict[str, int] = field(default_factory=dict)
    warehouse_keys_after: dict[str, int] = field(default_factory=dict)
    frozen_rows: dict[str, int] = field(default_factory=dict)
    warehouse_rebuilt: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def step(self) -> str:
        return STEP

    @property
    def landing_keys_cleared(self) -> int:
        return sum(self.keys_cleared.values())

    @property
    def warehouse_keys_cleared(self) -> int:
        before = sum(self.warehouse_keys_before.values())
        return before - sum(self.warehouse_keys_after.values()) if not self.dry_run else 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.files_rewritten or self.warehouse_rebuilt)

    @property
    def seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict:
        document = asdict(self)
        document["step"] = STEP
        document["landing_keys_cleared"] = self.landing_keys_cleared
        document["warehouse_keys_cleared"] = self.warehouse_keys_cleared
        document["seconds"] = round(self.seconds, 3)
        return document

    def summary(self) -> str:
        """A few lines for people: the cutoff and what was (or would be) removed."""
        would = "would be " if self.dry_run else ""
        lines = [f"retention: patron keys kept for {_months(self.retention_months)}"]
        if self.cutoff is None:
            lines += [f"  note: {note}" for note in self.notes]
            return "\n".join(lines)
        lines[0] += (
            f"; cutoff {self.cutoff} (newest landed event {self.newest_event_date}"
            + (
                f"; {self.month_cutoff} moved back to the start of the open year"
                if self.month_cutoff != self.cutoff
                else ""
            )
            + ")"
        )
        lines.append(
            f"  landing: {self.landing_keys_cleared} patron keys {would}removed, "
            f"{self.files_rewritten} files {would}rewritten"
        )
        for table, count in sorted(self.keys_cleared.items()):
            lines.append(f"      {table:<32} {count:>10}")
        if self.dry_run:
            lines.append(
                "  warehouse: "
                + ", ".join(f"{t} {n}" for t, n in sorted(self.warehouse_keys_before.items()))
                + " rows still hold a patron key from before the cutoff"
                if self.warehouse_keys_before
                else "  warehouse: not built yet"
            )
        else:
            if self.frozen_rows:
                lines.append(
                    "  frozen first: "
                    + ", ".join(f"{name} +{n}" for name, n in sorted(self.frozen_rows.items()))
                )
            lines.append(
                f"  warehouse: {self.warehouse_keys_cleared} patron keys removed from the facts"
                + (" (rebuilt)" if self.warehouse_rebuilt else "")
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def apply_retention(
    settings: Settings,
    warehouse: RetentionWarehouse,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RetentionReport:
    """Remove the patron keys dated before the retention cutoff from the landing and the
    warehouse's facts, having frozen first what the aggregates need of them (see the
    module's docstring). With `dry_run`, only report what would be removed.

    Raises RetentionRefused (nothing changed) when the landing is in the middle of a full
    refresh or there is no warehouse to freeze the aggregates in; LandingBusy when
    another run holds the landing; the warehouse's own error when dbt fails (before the
    landing is touched, if it fails while freezing).
    """
    say = progress or (lambda _message: None)
    report = RetentionReport(
        started_at=now_utc(), retention_months=settings.retention_months, dry_run=dry_run
    )
    store = StateStore(settings.landing_path)
    if dry_run:
        _plan(settings, warehouse, report, say)
    else:
        with store.lock():
            _run(settings, warehouse, report, store, say)
    report.finished_at = now_utc()
    if not dry_run:
        store.log_run(report.to_dict())
    return report


def _plan(
    settings: Settings, warehouse: RetentionWarehouse, report: RetentionReport, say: Progress
) -> list[KeyedFile]:
    """Find the cutoff and what holds keys before it; fills the report with what would go."""
    root = settings.landing_path
    state = StateStore(root).read()
    if state.pending_refresh is not None:
        raise RetentionRefused(
            f"a full refresh of {root} has not finished; run `bibbla ingest` to complete it, "
            "then run the retention again"
        )
    newest = newest_event_date(root)
    if newest is None:
        report.notes.append(f"no circulation events landed under {root}: nothing to do")
        say(report.notes[-1])
        return []
    cutoff = retention_cutoff(newest, settings.retention_months)
    report.newest_event_date, report.cutoff = newest, cutoff.cutoff
    report.month_cutoff = cutoff.month_cutoff
    say(f"retention: {cutoff.explain()}")
    keyed = find_keyed_files(root, cutoff.cutoff, settings.timezone)
    report.files_rewritten = len(keyed)
    for item in keyed:
        report.keys_cleared[item.label] = report.keys_cleared.get(item.label, 0) + item.keys
    say(
        f"retention: {report.landing_keys_cleared} patron keys dated before {cutoff.cutoff} "
        f"in {len(keyed)} landed files"
    )
    if warehouse.exists():
        report.warehouse_keys_before = warehouse.keyed_rows_before(cutoff.cutoff)
        say(
            f"retention: {sum(report.warehouse_keys_before.values())} rows of the warehouse's "
            "facts hold a patron key dated before the cutoff"
        )
    return keyed


def _run(
    settings: Settings,
    warehouse: RetentionWarehouse,
    report: RetentionReport,
    store: StateStore,
    say: Progress,
) -> None:
    removed = files.remove_temporary_files(settings.landing_path)
    if removed:
        report.notes.append(f"removed {removed} temporary files left by a killed run")
    keyed = _plan(settings, warehouse, report, say)
    cutoff = report.cutoff
    if cutoff is None:
        return
    report.files_rewritten = 0
    report.keys_cleared = {}
    if not keyed and not any(report.warehouse_keys_before.values()):
        report.notes.append("nothing dated before the cutoff holds a patron key: nothing to do")
        say(f"retention: {report.notes[-1]}")
        return
    if keyed:
        if not warehouse.exists():
            raise RetentionRefused(
                f"there is no warehouse at {settings.warehouse_path} to freeze the aggregates "
                "in before the patron keys go (they could never be counted again): run "
                "`bibbla warehouse build`, then the retention"
            )
        say(f"retention: freezing what the keys before {cutoff} count (dbt)")
        report.frozen_rows = warehouse.freeze(cutoff)
        say(f"retention: removing the patron keys from {len(keyed)} landed files")
        report.keys_cleared = clear_landing_keys(settings, cutoff, keyed, progress=say)
        report.files_rewritten = len(keyed)
    say("retention: rebuilding the warehouse from the landing (dbt build)")
    warehouse.rebuild()
    report.warehouse_rebuilt = True
    report.warehouse_keys_after = warehouse.keyed_rows_before(cutoff)
    left = {name: count for name, count in report.warehouse_keys_after.items() if count}
    if left:
        raise RetentionIncomplete(
            f"after the rebuild, the warehouse still holds patron keys dated before {cutoff}: "
            f"{left}; the landing has none left. Run `bibbla warehouse build --full-refresh` "
            "(the frozen aggregates are kept) and the retention again"
        )
    say(
        f"retention: done; {report.landing_keys_cleared} keys removed from the landing, "
        f"{report.warehouse_keys_cleared} from the warehouse's facts"
    )
