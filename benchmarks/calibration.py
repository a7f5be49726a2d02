"""Benchmark (a check, not a timing): the simulator's calibration at full scale. Whole
years at the whole population, and every municipality's loans per capita, active-borrower
share and stock per capita held against `reference/simulation_calibration.csv` with the
run's own calibration table (operational/simulation/report.py): within ±10 %
(report.TOLERANCE), as the README says of full-scale runs.

    .venv/bin/python -m benchmarks.calibration [--scale 1.0] [--start 2024-01-01]
                                               [--end 2025-12-31] [--seed 42]

Results (`benchmarks/results/calibration.json`): per measure, simulated ÷ target over the
municipality-years (min/median/max); the share of municipality-years within tolerance; and
in the context every municipality-year's targets, values, deviations and pass/fail. Exits
1 when any is off. Only the full suite runs it (`make bench-full`): at small scales a
small municipality's loans wander by more than ±10 % from sampling noise alone (the
small-scale check, with a tolerance for that noise, is
tests/operational/integration/test_simulation_calibration.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.common import Measurement, format_table, write_results
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.simulation import report
from operational.simulation.runner import run_days
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR

MEASURES = {
    "loans_per_capita": ("loans_target", "loans"),
    "active_borrower_share": ("active_target", "active"),
    "stock_per_capita": ("stock_target", "stock"),
}


def simulate(scale: float, start: date, end: date, seed: int, folder: Path):
    engine = create_database_engine(f"sqlite:///{folder / 'calibration.sqlite'}")
    schema.init(engine, REFERENCE_DIR)
    simulation = Simulation.create(
        engine, REFERENCE_DIR, seed, scale, start, end, progress=lambda _m: None
    )

    def on_day(day_report, _seconds: float) -> None:
        if day_report.day.day == 1:
            print(f"  {day_report.day}", flush=True)

    run_days(simulation, end, on_day=on_day)
    rows = report.calibration_table(simulation)
    engine.dispose()
    return rows


def results(rows: list[report.CalibrationRow]) -> tuple[list[Measurement], list[dict]]:
    measurements = [
        Measurement(
            f"{measure.replace('_', ' ')}: simulated / target",
            "ratio",
            [getattr(r, actual) / getattr(r, target) for r in rows if getattr(r, target)],
        )
        for measure, (target, actual) in MEASURES.items()
    ]
    measurements.append(
        Measurement(
            f"municipality-years within ±{report.TOLERANCE:.0%}",
            "share",
            [sum(r.within_tolerance for r in rows) / len(rows)],
        )
    )
    checks = [
        {
            "municipality_code": r.municipality_code,
            "municipality": r.municipality_name,
            "year": r.year,
            "share_of_year": round(r.share_of_year, 4),
            **{
                measure: {
                    "target": round(getattr(r, target), 4),
                    "simulated": round(getattr(r, actual), 4),
                    "deviation": round(r.deviations[measure], 4),
                }
                for measure, (target, actual) in MEASURES.items()
            },
            "within_tolerance": r.within_tolerance,
        }
        for r in rows
    ]
    return measurements, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        rows = simulate(args.scale, args.start, args.end, args.seed, Path(folder))
    measurements, checks = results(rows)
    failed = [f"{c['municipality']} {c['year']}" for c in checks if not c["within_tolerance"]]
    context = {
        **vars(args),
        "tolerance": report.TOLERANCE,
        "seconds": round(time.perf_counter() - began, 1),
        "calibration": checks,
        "off_target": failed,
    }
    path = write_results("calibration", measurements, context)
    print(report.format_table(rows))
    print()
    print(
        format_table(
            f"Calibration, scale {args.scale}, {args.start} to {args.end}, seed {args.seed}",
            measurements,
        )
    )
    print(f"results: {path}")
    if failed:
        print(f"OFF TARGET (beyond ±{report.TOLERANCE:.0%}): {', '.join(failed)}")
        sys.exit(1)
    print(f"every municipality-year within ±{report.TOLERANCE:.0%}")


if __name__ == "__main__":
    main()
