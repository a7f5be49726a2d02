"""Where a Dagster run's time went: each step's duration from the run's event log, and what
is left of the process's wall time (Dagster's own fixed cost: interpreter and imports,
loading the definitions and the dbt manifest, run and event storage, between steps)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class StepTimes:
    run_id: str
    steps: dict[str, float]  # step key -> seconds (summed over retries)
    run_seconds: float  # RUN_START to RUN_SUCCESS/FAILURE, inside the process

    @property
    def total(self) -> float:
        return sum(self.steps.values())

    def grouped(self) -> dict[str, float]:
        """Steps summed by what they do (landing, checks, dbt, docs, reports, other)."""
        groups: dict[str, float] = {}
        for key, seconds in self.steps.items():
            groups[_group(key)] = groups.get(_group(key), 0.0) + seconds
        return groups


def _group(step_key: str) -> str:
    key = step_key.lower()
    if "check" in key or key.startswith("gx") or "expect" in key:
        return "checks"
    if "docs" in key:
        return "dbt docs"
    if "report" in key:
        return "reports"
    if "landing" in key or "ingest" in key or "snapshot" in key or "reference" in key:
        return "ingestion"
    if "dbt" in key or "bibbla" in key or "warehouse" in key:
        return "dbt build"
    return "other"


def last_run_steps(dagster_home: Path) -> StepTimes:
    import dagster as dg
    from dagster._core.events import DagsterEventType

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [run] = instance.get_runs(limit=1)
        started: dict[str, float] = {}
        steps: dict[str, float] = {}
        run_start = run_end = None
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type
            if kind == DagsterEventType.RUN_START:
                run_start = entry.timestamp
            elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
                run_end = entry.timestamp
            elif kind == DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
            elif (
                kind
                in (
                    DagsterEventType.STEP_SUCCESS,
                    DagsterEventType.STEP_FAILURE,
                    DagsterEventType.STEP_UP_FOR_RETRY,
                )
                and entry.step_key in started
            ):
                steps[entry.step_key] = steps.get(entry.step_key, 0.0) + (
                    entry.timestamp - started.pop(entry.step_key)
                )
        return StepTimes(run.run_id, steps, (run_end or 0.0) - (run_start or 0.0))
