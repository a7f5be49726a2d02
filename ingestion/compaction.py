"""`bibbla ingest compact`: a landing of daily copies turned into the change history, once.

Before the history (ingestion/history.py) every run landed a whole copy of each slowly
changing table, `<table>/date=D/snapshot-<database>.parquet`. Compaction reads a table's
copies in as-of order and writes what a history landing would have landed on each date:
the first copy whole, then per date the rows new, changed or deleted against the copy
before it. Nothing is lost and nothing is guessed:

- before a table is switched over, the history is read back and the state it gives on
  every as-of date is compared with that date's copy, row for row; any difference stops
  the run with the table untouched;
- every table's history is built in `_compacting/<table>/`, checked and made durable
  before the first table is switched; any failure removes them and leaves the landing as
  it was. The switch then renames folders, per table: the copies' folder to
  `_superseded/<stamp>-daily-copies/<table>/` (kept, not read; remove it once satisfied)
  and the history into its place. A run killed during the switches is finished by the
  next one (a history waiting in `_compacting/` with no table folder is renamed into
  place; a table not switched yet still has its copies and is compacted again);
- quarantined rows and the manifest keep their files; the event feed is not touched.

A landing that is already a history has nothing to compact and is left as it is.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from bibbla.config import Settings
from ingestion import files, history
from ingestion.contract import HISTORY_TABLES, SNAPSHOT_MANIFEST, Table
from ingestion.errors import IngestionError, landing_writes
from ingestion.landing import SNAPSHOT_FILE, SUPERSEDED, Landing
from ingestion.state import StateStore

COMPACTING = "_compacting"
Progress = Callable[[str], None]


class CompactionFailed(IngestionError):
    """The history built from the copies does not give back every copy; nothing moved."""


@dataclass
class CompactionReport:
    """Per table: the copies read, their rows, and the history rows written."""

    copies: dict[str, int] = field(default_factory=dict)
    copy_rows: dict[str, int] = field(default_factory=dict)
    history_rows: dict[str, int] = field(default_factory=dict)
    moved_to: Path | None = None

    def summary(self) -> str:
        if not self.copies:
            return "compact: no daily copies in the landing; nothing to do"
        lines = ["compact: daily copies turned into the change history"]
        for table, copies in self.copies.items():
            lines.append(
                f"  {table:<18} {copies:>5} copies, {self.copy_rows[table]:>10} rows -> "
                f"{self.history_rows[table]:>9} history rows"
            )
        lines.append(f"  the copies are kept (not read) in {self.moved_to}")
        return "\n".join(lines)


def _copies(folder: Path) -> list[tuple[date, Path, str]]:
    found = []
    for partition in sorted(folder.glob("date=*")):
        for path in sorted(partition.glob("snapshot-*.parquet")):
            match = SNAPSHOT_FILE.match(path.name)
            if match:
                day = date.fromisoformat(partition.name.removeprefix("date="))
                found.append((day, path, match["database"]))
    return found


def _event_ids(root: Path) -> dict[date, int]:
    """The snapshot_event_id of each as-of date, from the manifest (for deletions)."""
    ids: dict[date, int] = {}
    for partition in sorted((root / SNAPSHOT_MANIFEST.name).glob("date=*")):
        for path in partition.glob("*.parquet"):
            frame = pl.read_parquet(path, columns=["snapshot_event_id"], hive_partitioning=False)
            if frame.height:
                ids[date.fromisoformat(partition.name.removeprefix("date="))] = int(
                    frame["snapshot_event_id"][0]
                )
    return ids


def _sorted(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    columns = [c for c in table.column_names if c not in ("snapshot_event_id", "change")]
    return frame.select(columns).sort(columns, nulls_last=True)


def _compact_table(
    landing: Landing, table: Table, event_ids: dict[date, int], report: CompactionReport
) -> Path | None:
    """Build the table's history in _compacting/; returns its folder (None: no copies)."""
    root = landing.root
    copies = _copies(root / table.name)
    if not copies:
        return None
    target = root / COMPACTING / table.name
    if target.exists():
        shutil.rmtree(target)  # a build that did not finish: built again from the copies
    previous = table.conform(pl.DataFrame()).head(0)
    written = rows_read = 0
    for day, path, database in copies:
        copy = pl.read_parquet(path, hive_partitioning=False)
        rows_read += copy.height
        lineage = [
            pl.lit(database).alias("database_id"),
            pl.lit(event_ids.get(day), pl.Int64).alias("snapshot_event_id"),
        ]
        changed = history.changes(previous, table.conform(copy), table, lineage)
        if changed.height or written == 0:
            final = target / landing.partition(day) / f"changes-{database}.parquet"
            files.write_parquet(changed, final)
            written += 1
        report.history_rows[table.name] = report.history_rows.get(table.name, 0) + changed.height
        previous = table.conform(copy)
    report.copies[table.name] = len(copies)
    report.copy_rows[table.name] = rows_read
    # Nothing lost: the history, read forward as a reader applies it (each date's rows
    # replace or delete their keys), gives back every copy, row for row.
    key = list(table.key)
    state = previous.head(0)
    changes = dict(history.change_files(target))
    for day, path, _ in copies:
        if day in changes:
            rows = pl.read_parquet(changes[day], hive_partitioning=False)
            state = pl.concat(
                [
                    state.join(rows.select(key), on=key, how="anti"),
                    rows.filter(pl.col("change") != "deleted"),
                ]
            )
        copy = pl.read_parquet(path, hive_partitioning=False)
        if not _sorted(state, table).equals(_sorted(table.conform(copy), table), null_equal=True):
            raise CompactionFailed(
                f"{table.name}: the history does not give back the copy of {day} "
                f"({state.height} rows against {copy.height}); the landing is unchanged"
            )
    return target


def _switch(root: Path, table: str, aside: Path) -> None:
    """Move the copies aside and the history into place (two renames)."""
    built = root / COMPACTING / table
    current = root / table
    if current.exists():
        aside.mkdir(parents=True, exist_ok=True)
        os.replace(current, aside / table)
        files.fsync_directory(aside)
    os.replace(built, current)
    files.fsync_directory(root)
    files.fsync_directory(built.parent)


@landing_writes
def compact(settings: Settings, *, progress: Progress | None = None) -> CompactionReport:
    """Turn every history table's daily copies into its change history (see the module)."""
    say = progress or (lambda _message: None)
    landing = Landing(settings.landing_path)
    root = landing.root
    store = StateStore(root)
    report = CompactionReport()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = root / SUPERSEDED / f"{stamp}-daily-copies"
    with store.lock():
        files.remove_temporary_files(root)
        # a switch a killed run left half done: the history is built, the copies gone
        for table in HISTORY_TABLES:
            built = root / COMPACTING / table.name
            if built.exists() and not (root / table.name).exists():
                _switch(root, table.name, aside)
                say(f"  {table.name}: finished the switch of an earlier run")
        event_ids = _event_ids(root)
        # Every table's history is built and checked before the first one is switched, so
        # a copy that cannot be given back leaves the whole landing as it was.
        built: list[tuple[Table, Path]] = []
        try:
            for table in HISTORY_TABLES:
                folder = _compact_table(landing, table, event_ids, report)
                if folder is not None:
                    files.make_durable(p for p in folder.rglob("*.parquet"))
                    built.append((table, folder))
                    say(
                        f"  {table.name:<18} {report.copies[table.name]:>5} copies -> "
                        f"{report.history_rows[table.name]} history rows, checked"
                    )
        except CompactionFailed:
            shutil.rmtree(root / COMPACTING, ignore_errors=True)
            raise
        for table, _folder in built:
            _switch(root, table.name, aside)
        if (root / COMPACTING).exists() and not any((root / COMPACTING).iterdir()):
            (root / COMPACTING).rmdir()
    if report.copies:
        report.moved_to = aside
    return report
