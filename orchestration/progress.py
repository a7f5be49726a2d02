"""Readable progress for pipeline runs: one line per step, asset and check.

The default Dagster console logger prints every engine event; this one prints what a
person watching `bibbla pipeline run` (or a run's stderr in the UI) wants: steps starting
and finishing, assets materialised with their row counts, checks passed or failed, and the
assets' own progress messages (ingestion batches, dbt models, npm steps).
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

_SHOWN_EVENTS = {
    DagsterEventType.RUN_START,
    DagsterEventType.RUN_SUCCESS,
    DagsterEventType.RUN_FAILURE,
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.STEP_UP_FOR_RETRY,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}


def error_text(error) -> str:
    """The first line of the error that matters (a retry wraps the asset's own error)."""
    while (
        error is not None
        and error.cause is not None
        and ("RetryRequested" in error.message or "Exceeded max_retries" in error.message)
    ):
        error = error.cause
    return error.message.strip().splitlines()[0] if error is not None else ""


def _row_count(materialization) -> str:
    value = materialization.metadata.get("dagster/row_count")
    return f" ({value.value:,} rows)" if value is not None else ""


class StepTally:
    """Checks passed and failed per step, for the step's closing line (a dbt build has
    hundreds of tests: each failure gets a line, the passes a count)."""

    def __init__(self) -> None:
        self.passed: dict[str, int] = {}
        self.failed: dict[str, int] = {}

    def count(self, step: str, passed: bool) -> None:
        tally = self.passed if passed else self.failed
        tally[step] = tally.get(step, 0) + 1

    def summary(self, step: str) -> str:
        passed, failed = self.passed.pop(step, 0), self.failed.pop(step, 0)
        if not passed and not failed:
            return ""
        return f", checks: {passed} passed" + (f", {failed} FAILED" if failed else "")


# Steps whose passing checks are counted rather than listed (dbt's tests).
QUIET_CHECK_STEPS = ("warehouse",)


def describe(
    record: logging.LogRecord, level: int = logging.INFO, tally: StepTally | None = None
) -> str | None:
    """The progress line for a log record, or None for records not worth a line: engine
    events are picked by kind, the assets' own messages by `level`."""
    tally = tally or StepTally()
    if not has_log_record_metadata(record):
        return record.getMessage() if record.levelno >= level else None
    meta = get_log_record_metadata(record)
    event = meta["dagster_event"]
    if event is None:
        if record.levelno < level:
            return None
        message = str(meta["orig_message"])
        if message.startswith("Dependencies for step "):
            # "Dependencies for step X failed: [every upstream step]. Not executing."
            step = message.removeprefix("Dependencies for step ").split(" ", 1)[0]
            return f"- {step} not run: an upstream step or blocking check failed"
        return "    " + message.replace("\n", "\n             ")
    kind = event.event_type
    if kind not in _SHOWN_EVENTS:
        return None
    step = event.step_key or ""
    if kind == DagsterEventType.RUN_START:
        return f"run {meta['run_id'][:8]} of {meta['job_name']} started"
    if kind == DagsterEventType.RUN_SUCCESS:
        return f"run {meta['run_id'][:8]} succeeded"
    if kind == DagsterEventType.RUN_FAILURE:
        return f"run {meta['run_id'][:8]} FAILED"
    if kind == DagsterEventType.STEP_START:
        return f"▶ {step}"
    if kind == DagsterEventType.STEP_SUCCESS:
        seconds = event.event_specific_data.duration_ms / 1000
        return f"✓ {step} ({seconds:.1f} s{tally.summary(step)})"
    if kind == DagsterEventType.STEP_FAILURE:
        message = error_text(event.event_specific_data.error)
        checks = tally.summary(step)
        return f"✗ {step} FAILED: {message}" + (f" ({checks.lstrip(', ')})" if checks else "")
    if kind == DagsterEventType.STEP_SKIPPED:
        return f"- {step} skipped (an upstream step or blocking check failed)"
    if kind == DagsterEventType.STEP_UP_FOR_RETRY:
        return f"↻ {step} will be retried: {error_text(event.event_specific_data.error)}"
    if kind == DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key.to_user_string()
        return f"  materialised {key}{_row_count(materialization)}"
    if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        tally.count(step, evaluation.passed)
        if evaluation.passed and step in QUIET_CHECK_STEPS:
            return None
        key = evaluation.asset_key.to_user_string()
        verdict = "passed" if evaluation.passed else "FAILED"
        return f"  check {key}:{evaluation.check_name} {verdict}"
    return None


class _ProgressHandler(logging.Handler):
    def __init__(self, stream, level: int) -> None:
        super().__init__()
        self.stream = stream
        self.messages_level = level
        self.tally = StepTally()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = describe(record, self.messages_level, self.tally)
        except Exception:  # a progress line must never break a run
            line = record.getMessage()
        if line is None:
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        self.stream.write(f"{stamp} {line}\n")
        self.stream.flush()


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="One line per step, asset materialisation and check (stderr).",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    level = logging.getLevelName(init_context.logger_config["log_level"].upper())
    # Engine events come at DEBUG; the handler picks the ones worth a line.
    logger = logging.Logger("bibbla_pipeline", level=logging.DEBUG)
    logger.addHandler(_ProgressHandler(sys.stderr, level))
    return logger
