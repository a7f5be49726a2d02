"""One ingestion run: the event feed, then the snapshots, then the reference files.

The steps are independent: a malformed reference file does not hold back the night's
events, and a database that needs a full refresh does not hold back the reference data.
Every step is attempted; the run reports each outcome and fails if any step failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bibbla.config import Settings
from ingestion.errors import IngestionError
from ingestion.events import Progress, extract_events
from ingestion.reference import land_reference
from ingestion.report import RunReport
from ingestion.snapshots import land_snapshots


@dataclass
class IngestOutcome:
    """The report of every step that ran, and the error of every step that refused."""

    reports: list[RunReport] = field(default_factory=list)
    errors: dict[str, IngestionError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_quarantined(self) -> int:
        return sum(report.rows_quarantined for report in self.reports)


def ingest(
    settings: Settings,
    *,
    full_refresh: bool = False,
    batch_rows: int | None = None,
    progress: Progress | None = None,
) -> IngestOutcome:
    """Run every ingestion step (events, snapshots, reference) and collect the outcomes;
    `progress` receives progress lines and each step's summary as it finishes."""
    steps: list[tuple[str, Callable[[], RunReport]]] = [
        (
            "events",
            lambda: extract_events(
                settings, full_refresh=full_refresh, batch_rows=batch_rows, progress=progress
            ),
        ),
        ("snapshots", lambda: land_snapshots(settings, progress=progress)),
        ("reference", lambda: land_reference(settings, progress=progress)),
    ]
    say = progress or (lambda _message: None)
    outcome = IngestOutcome()
    for name, step in steps:
        try:
            report = step()
        except IngestionError as error:
            outcome.errors[name] = error
            say(f"{name}: refused: {error}")
        else:
            outcome.reports.append(report)
            say(report.summary())
    return outcome
