"""Great Expectations, run as Dagster asset checks: validate pandas frames, report failures.

Every check in this package builds one or more pandas frames (DuckDB queries over the
landing Parquet or the warehouse, `con.sql(query).df()`) and hands them here with the
expectations they must meet. GX validates them through its pandas datasource in an
ephemeral context (nothing is written to disk, no network): GX on DuckDB through
SQLAlchemy fails on these machines, and GX has no polars datasource (docs/stack-notes.md).

A failing expectation fails the check, and the metadata shows what failed: the unexpected
values (or observed value) and, where the frame has them, the ids of the failing rows.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd

# GX reads this when its context starts; it must never phone home from here.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

FAILING_VALUES_SHOWN = 20

_context_lock = threading.Lock()
_context: Any = None


@dataclass
class Frame:
    """One frame and what it must satisfy. `ids` name the columns that identify a failing
    row in the metadata (e.g. `loan_id`); `note` says how the frame was built."""

    name: str
    data: pd.DataFrame
    expectations: Sequence[Any]
    ids: Sequence[str] = ()
    note: str = ""


@dataclass
class Outcome:
    passed: bool
    rows: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [result for result in self.results if not result["success"]]


def _gx_context():
    """One ephemeral GX context per process (importing GX costs seconds; do it once)."""
    global _context
    with _context_lock:
        if _context is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.enable_analytics(False)
            context.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            context.data_sources.add_pandas("bibbla_frames")
            _context = context
        return _context


def expectations():
    """The `great_expectations.expectations` module (imported lazily: it is slow)."""
    import great_expectations.expectations as gxe

    return gxe


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a GX result value (numpy scalars, timestamps, tuples)."""
    return json.loads(json.dumps(value, default=str))


def _describe(config) -> str:
    arguments = {
        key: value
        for key, value in config.kwargs.items()
        if key not in ("result_format", "batch_id") and value is not None
    }
    shown = ", ".join(f"{key}={_short(value)}" for key, value in arguments.items())
    return f"{config.type}({shown})"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def _failing_values(result: dict[str, Any]) -> Any:
    """What to show for a failed expectation: the failing rows' ids and values, or the
    observed value of a table-level expectation."""
    detail = result.get("result") or {}
    indexed = detail.get("partial_unexpected_index_list") or []
    if indexed and isinstance(indexed[0], dict):
        return indexed[:FAILING_VALUES_SHOWN]
    if detail.get("partial_unexpected_counts"):
        return detail["partial_unexpected_counts"][:FAILING_VALUES_SHOWN]
    if detail.get("partial_unexpected_list"):
        return detail["partial_unexpected_list"][:FAILING_VALUES_SHOWN]
    if "observed_value" in detail:
        return {"observed_value": detail["observed_value"]}
    if result.get("exception"):
        return {"exception": result["exception"]}
    return detail


def run(frames: Iterable[Frame]) -> Outcome:
    """Validate each frame against its expectations; passed only if every one is met."""
    import great_expectations as gx

    context = _gx_context()
    source = context.data_sources.get("bibbla_frames")
    outcome = Outcome(passed=True)
    for frame in frames:
        with _context_lock:
            try:
                asset = source.get_asset(frame.name)
            except LookupError:
                asset = source.add_dataframe_asset(frame.name)
            try:
                batch_definition = asset.get_batch_definition("whole")
            except KeyError:
                batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name=frame.name)
        for expectation in frame.expectations:
            suite.add_expectation(expectation)
        result_format: dict[str, Any] = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": FAILING_VALUES_SHOWN,
        }
        ids = [column for column in frame.ids if column in frame.data.columns]
        if ids:
            result_format["unexpected_index_column_names"] = ids
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.data})
        validation = batch.validate(suite, result_format=result_format)
        outcome.rows[frame.name] = len(frame.data)
        for item in validation.results:
            message = _exception_message(item.exception_info or {})
            entry = {
                "frame": frame.name,
                "expectation": _describe(item.expectation_config),
                "success": bool(item.success) and message is None,
                "result": _plain(item.result or {}),
            }
            if message is not None:
                entry["exception"] = message
            outcome.results.append(entry)
            outcome.passed &= entry["success"]
    return outcome


def _exception_message(info: dict[str, Any]) -> str | None:
    """The message of an exception GX caught while computing an expectation (it then
    reports the expectation as failed; a check must not pass on an error)."""
    candidates = [info] if "raised_exception" in info else list(info.values())
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("raised_exception"):
            message = candidate.get("exception_message") or "exception"
            return str(message)[:500]
    return None


def _markdown_table(rows: list[list[str]], header: list[str]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def check_result(
    outcome: Outcome,
    *,
    asset_key: dg.AssetKey | None = None,
    check_name: str | None = None,
    extra: dict[str, Any] | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """The Dagster result of a validation: passed or not, with the failing values shown."""
    summary_rows = [
        [
            "pass" if result["success"] else "FAIL",
            result["frame"],
            result["expectation"],
            str((result["result"] or {}).get("unexpected_count", "")),
        ]
        for result in outcome.results
    ]
    metadata: dict[str, Any] = {
        "expectations": dg.MetadataValue.md(
            _markdown_table(summary_rows, ["", "frame", "expectation", "unexpected"])
        ),
        "expectations_failed": len(outcome.failures),
        "expectations_evaluated": len(outcome.results),
        "rows_validated": dg.MetadataValue.json(outcome.rows),
    }
    if outcome.failures:
        metadata["failing_values"] = dg.MetadataValue.json(
            [
                {
                    "frame": failure["frame"],
                    "expectation": failure["expectation"],
                    "unexpected_count": (failure["result"] or {}).get("unexpected_count"),
                    "failing": _failing_values(failure),
                }
                for failure in outcome.failures
            ]
        )
    for key, value in (extra or {}).items():
        metadata[key] = value
    return dg.AssetCheckResult(
        passed=outcome.passed,
        asset_key=asset_key,
        check_name=check_name,
        severity=severity,
        metadata=metadata,
        description=(
            None
            if outcome.passed
            else "; ".join(
                f"{failure['frame']}: {failure['expectation']}" for failure in outcome.failures
            )[:1000]
        ),
    )
