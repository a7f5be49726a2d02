"""What a run did: rows landed and quarantined per table, the watermark, what it recovered.

The report is returned by every public function (so a Dagster asset can attach it as
metadata and fail a check on quarantined rows), printed by the CLI and appended to
`landing/_state/runs.jsonl`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from ingestion.landing import RecoveryReport


@dataclass
class TableReport:
    """Rows of one table in one run."""

    table: str
    rows_landed: int = 0
    rows_quarantined: int = 0
    files_written: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, landed: int, quarantined: int, files: int, reasons: Mapping[str, int]) -> None:
        self.rows_landed += landed
        self.rows_quarantined += quarantined
        self.files_written += files
        for reason, count in reasons.items():
            self.quarantine_reasons[reason] = self.quarantine_reasons.get(reason, 0) + count


@dataclass
class RunReport:
    """The outcome of one step: `events`, `snapshots` or `reference`."""

    step: str
    started_at: datetime
    finished_at: datetime | None = None
    database_id: str | None = None
    full_refresh: bool = False
    watermark_before: int | None = None
    watermark_after: int | None = None
    as_of: date | None = None
    batches: int = 0
    tables: dict[str, TableReport] = field(default_factory=dict)
    recovery: RecoveryReport = field(default_factory=RecoveryReport)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport(name))

    @property
    def rows_landed(self) -> int:
        return sum(t.rows_landed for t in self.tables.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables.values())

    @property
    def seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict:
        document = asdict(self)
        document["rows_landed"] = self.rows_landed
        document["rows_quarantined"] = self.rows_quarantined
        document["seconds"] = round(self.seconds, 3)
        return document

    def summary(self) -> str:
        """A few lines for people: what landed, what was quarantined and why."""
        lines = [
            f"{self.step}: {self.rows_landed} rows landed, {self.rows_quarantined} quarantined"
        ]
        if self.watermark_before is not None:
            lines[0] += f" (events {self.watermark_before} -> {self.watermark_after})"
        if self.as_of is not None:
            lines[0] += f" (as of {self.as_of})"
        for table in self.tables.values():
            lines.append(
                f"  {table.table:<24} {table.rows_landed:>10} landed {table.rows_quarantined:>6}"
                f" quarantined {table.files_written:>5} files"
            )
            for reason, count in sorted(table.quarantine_reasons.items()):
                lines.append(f"      quarantined {count:>6}: {reason}")
        recovery = self.recovery
        if recovery.anything:
            lines.append(
                f"  recovered: {recovery.temporary_files_removed} temporary and "
                f"{recovery.uncommitted_files_removed} uncommitted files removed, "
                f"{recovery.folders_moved_aside} folders moved aside"
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)
