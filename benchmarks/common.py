"""Shared helpers of the benchmark suite: repeated measurements summarised as
min/median/max, ratios against a baseline measured in the same run, results as JSON."""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """Repeated values of one quantity (higher or lower is better, as `unit` says)."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "unit": self.unit,
            "runs": len(self.values),
            "min": min(self.values),
            "median": statistics.median(self.values),
            "max": max(self.values),
            "values": self.values,
        }


def ratio(numerators: list[float], denominators: list[float]) -> list[float]:
    """Run-by-run ratios: each pair was measured side by side in the same round."""
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d]


def write_results(name: str, measurements: list[Measurement], context: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": _cpus()},
                "context": context,
                "results": {m.name: m.summary() for m in measurements},
            },
            indent=2,
            default=str,
        )
    )
    return path


def format_table(title: str, measurements: list[Measurement]) -> str:
    lines = [title, f"{'measure':<46}{'min':>12}{'median':>12}{'max':>12}  unit"]
    for m in measurements:
        s = m.summary()
        lines.append(
            f"{m.name:<46}{s['min']:>12,.3f}{s['median']:>12,.3f}{s['max']:>12,.3f}  {m.unit}"
        )
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
