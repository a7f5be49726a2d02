"""The landing folder: where each file goes, what its name says, and recovery after a crash.

Layout (see LANDING.md):

    landing/
      circulation_event/date=YYYY-MM-DD/part-<database_id>-<first_id>-<last_id>.parquet
      <history table>/date=YYYY-MM-DD/changes-<database_id>.parquet
      snapshot_manifest/date=YYYY-MM-DD/snapshot-<database_id>.parquet
      <reference table>/reference.parquet
      _quarantine/circulation_event/part-<database_id>-<first_id>-<last_id>.parquet
      _quarantine/<snapshot table>/snapshot-<database_id>-YYYY-MM-DD.parquet
      _quarantine/<table>/empty.parquet  a row-less file, so that a reader's glob never
                                         comes back empty
      _superseded/<stamp>/...            landings moved aside by a full refresh
      _state/ingestion.json              the committed watermark per database identity

An event file's name carries the id range of the batch it belongs to (not of its own
rows: one batch spans several dates). A batch is committed when the watermark reaches its
last id; files of a batch beyond the watermark belong to a run that was killed before its
commit and are deleted by the next run before it lands anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion import faults, files
from ingestion.contract import EVENT_TABLES, SNAPSHOT_TABLES, Table, quarantine_table
from ingestion.errors import LandingInconsistent

QUARANTINE = "_quarantine"
SUPERSEDED = "_superseded"
BATCH_FILE = re.compile(r"^part-(?P<database>.+)-(?P<first>\d+)-(?P<last>\d+)\.parquet$")
SNAPSHOT_FILE = re.compile(r"^snapshot-(?P<database>.+)\.parquet$")
CHANGES_FILE = re.compile(r"^changes-(?P<database>.+)\.parquet$")
QUARANTINED_SNAPSHOT_FILE = re.compile(
    r"^snapshot-(?P<database>.+)-(?P<date>\d{4}-\d{2}-\d{2})\.parquet$"
)
REFERENCE_FILE = "reference.parquet"
EMPTY_FILE = "empty.parquet"
ID_DIGITS = 12


@dataclass
class RecoveryReport:
    """What a run cleaned up before landing anything."""

    temporary_files_removed: int = 0
    uncommitted_files_removed: int = 0
    folders_moved_aside: int = 0

    @property
    def anything(self) -> bool:
        return bool(
            self.temporary_files_removed
            or self.uncommitted_files_removed
            or self.folders_moved_aside
        )


@dataclass(frozen=True)
class BatchFile:
    path: Path
    database_id: str
    first_id: int
    last_id: int


class Landing:
    """Paths and housekeeping of one landing folder."""

    def __init__(self, root: Path):
        self.root = root

    # -- where files go

    @staticmethod
    def partition(day: date) -> str:
        return f"date={day.isoformat()}"

    def event_file(self, table: str, day: date, database_id: str, first: int, last: int) -> Path:
        name = f"part-{database_id}-{first:0{ID_DIGITS}d}-{last:0{ID_DIGITS}d}.parquet"
        return self.root / table / self.partition(day) / name

    def event_quarantine_file(self, table: str, database_id: str, first: int, last: int) -> Path:
        name = f"part-{database_id}-{first:0{ID_DIGITS}d}-{last:0{ID_DIGITS}d}.parquet"
        return self.root / QUARANTINE / table / name

    def snapshot_file(self, table: str, day: date, database_id: str) -> Path:
        return self.root / table / self.partition(day) / f"snapshot-{database_id}.parquet"

    def changes_file(self, table: str, day: date, database_id: str) -> Path:
        return self.root / table / self.partition(day) / f"changes-{database_id}.parquet"

    def snapshot_quarantine_file(self, table: str, day: date, database_id: str) -> Path:
        return self.root / QUARANTINE / table / f"snapshot-{database_id}-{day.isoformat()}.parquet"

    def quarantine_schema_file(self, table: str) -> Path:
        return self.root / QUARANTINE / table / EMPTY_FILE

    def reference_file(self, table: str) -> Path:
        return self.root / table / REFERENCE_FILE

    def ensure_quarantine_schema(self, table: Table) -> None:
        """Give the table's quarantine a row-less file, so that it can always be read."""
        path = self.quarantine_schema_file(table.name)
        if not path.exists():
            files.write_parquet(quarantine_table(table).empty(), path)

    # -- what is there

    def batch_files(self) -> Iterator[BatchFile]:
        """Every landed or quarantined event file, with the batch its name records."""
        for table in EVENT_TABLES:
            for folder in (self.root / table.name, self.root / QUARANTINE / table.name):
                if not folder.exists():
                    continue
                for path in folder.rglob("part-*.parquet"):
                    match = BATCH_FILE.match(path.name)
                    if match:
                        yield BatchFile(
                            path,
                            match["database"],
                            int(match["first"]),
                            int(match["last"]),
                        )

    def snapshot_files(self) -> Iterator[tuple[Path, str]]:
        """Every landed or quarantined snapshot (or change) file, with the database it came
        from."""
        for table in SNAPSHOT_TABLES:
            for folder, pattern in (
                (self.root / table.name, SNAPSHOT_FILE),
                (self.root / table.name, CHANGES_FILE),
                (self.root / QUARANTINE / table.name, QUARANTINED_SNAPSHOT_FILE),
            ):
                if not folder.exists():
                    continue
                for path in folder.rglob("*.parquet"):
                    match = pattern.match(path.name)
                    if match:
                        yield path, match["database"]

    # -- housekeeping

    def recover(self, database_id: str, watermark: int) -> RecoveryReport:
        """Undo what a killed run left: temporary files, and batches never committed.

        Refuses (LandingInconsistent) when files of another database are present, since
        only a full refresh may decide what happens to them.
        """
        report = RecoveryReport()
        report.temporary_files_removed = files.remove_temporary_files(self.root)
        for batch in list(self.batch_files()):
            if batch.database_id != database_id:
                raise LandingInconsistent(
                    f"{batch.path} comes from lending-core database {batch.database_id}, but "
                    f"this landing belongs to {database_id}; run `bibbla ingest --full-refresh` "
                    "to move the old landing aside"
                )
            if batch.first_id > watermark:
                batch.path.unlink()
                report.uncommitted_files_removed += 1
            elif batch.last_id > watermark:
                raise LandingInconsistent(
                    f"{batch.path} spans the committed watermark {watermark}; batches commit "
                    "whole, so the landing was changed by hand. Run `bibbla ingest "
                    "--full-refresh` to land the feed again"
                )
        for path, owner in self.snapshot_files():
            if owner != database_id:
                raise LandingInconsistent(
                    f"{path} comes from lending-core database {owner}, but this landing "
                    f"belongs to {database_id}; run `bibbla ingest --full-refresh`"
                )
        return report

    def move_aside(self, stamp: str) -> int:
        """Move every event and snapshot table (and its quarantine) to _superseded/<stamp>/.

        Each move renames a whole folder, so it is atomic; run again after a crash, it
        moves what is left. Reference tables stay: they do not come from the database.
        """
        target = self.root / SUPERSEDED / stamp
        moved = 0
        for table in EVENT_TABLES + SNAPSHOT_TABLES:
            for relative in (Path(table.name), Path(QUARANTINE) / table.name):
                source = self.root / relative
                if not source.exists():
                    continue
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, destination)
                files.fsync_directory(destination.parent)
                files.fsync_directory(source.parent)
                moved += 1
                faults.fault_point(faults.SUPERSEDED_MOVED)
        return moved
