"""Shared helpers of the benchmark suite: repeated measurements summarised as
min/median/max, ratios against a baseline measured in the same run, results as JSON."""

from __future__ import annotations

import contextlib
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


@dataclass
class Run:
    """One measured child process: wall time, and the peak of the resident memory of it and
    all its descendants together (sampled every 50 ms: dbt's Spark JVM is a grandchild)."""

    seconds: float
    peak_rss_mb: float
    output: str


class CommandFailed(RuntimeError):
    pass


def run_measured(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """Run `command` to the end, measuring wall time and peak memory of its process tree;
    raises CommandFailed with the output's tail when it exits non-zero."""
    import subprocess
    import tempfile
    import threading
    import time

    import psutil

    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            try:
                root = psutil.Process(process.pid)
            except psutil.NoSuchProcess:
                return
            while not done.is_set():
                total = 0
                try:
                    for member in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.NoSuchProcess):
                            total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    break
                peak = max(peak, total)
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        output.seek(0)
        text = output.read()
    if code != 0:
        tail = "\n".join(line[:400] for line in text.splitlines()[-40:])
        raise CommandFailed(f"{' '.join(command[:4])} … failed (exit {code}):\n{tail}")
    return Run(seconds, peak / 2**20, text)


def share(parts: list[float], wholes: list[float]) -> list[float]:
    """Run-by-run ratio of a part to the whole it belongs to."""
    return ratio(parts, wholes)
