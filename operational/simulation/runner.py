"""Running a simulation over a period: progress, a clean stop on Ctrl-C after the current
day, and the scenario set-up (the counterfactual in which the five never join)."""

from __future__ import annotations

import csv
import gc
import signal
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from operational.simulation.collector import rare_collections
from operational.simulation.simulator import DayReport, Simulation


def without_joins(reference_dir: Path, start: date, folder: Path) -> Path:
    """A copy of municipalities.csv in which no municipality joins on or after `start`:
    the counterfactual membership timeline."""
    source = reference_dir / "municipalities.csv"
    target = folder / "municipalities-no-join.csv"
    with source.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        fields = reader.fieldnames or []
    for row in rows:
        joined = row.get("consortium_joined_on") or ""
        if joined and date.fromisoformat(joined) >= start:
            row["consortium_joined_on"] = ""
            row["join_note"] = f"counterfactual: does not join (was {joined})"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return target


class StopAfterDay:
    """Turns Ctrl-C into a request to stop once the current day is written."""

    def __init__(self):
        self.requested = False

    def __enter__(self) -> StopAfterDay:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, _signum, _frame) -> None:
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info) -> None:
        signal.signal(signal.SIGINT, self._previous)


def run_days(
    simulation: Simulation,
    last_day: date,
    on_day: Callable[[DayReport, float], None] | None = None,
    stop: StopAfterDay | None = None,
) -> list[DayReport]:
    """Simulate from the next unfinished day up to and including last_day. Each day is
    written while the next is simulated; when this returns (or raises), every day it
    reports is in the database."""
    reports = []
    day = simulation.next_day()
    try:
        with rare_collections():  # and what each day keeps frozen at its end
            while day <= last_day:
                began = time.perf_counter()
                report = simulation.simulate_day(day)
                stopping = day == last_day or (stop is not None and stop.requested)
                if stopping:
                    simulation.wait_written()  # the last day counts until it is stored
                gc.freeze()
                reports.append(report)
                if on_day is not None:
                    on_day(report, time.perf_counter() - began)
                if stopping or (stop is not None and stop.requested):
                    break
                day += timedelta(days=1)
    finally:
        simulation.close()
    return reports
