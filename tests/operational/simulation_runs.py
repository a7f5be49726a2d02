"""Short simulated runs for the tests: the simulator driven over a few days on a new
database, as `bibbla simulate` does, with nothing printed. Shared by the simulation,
van and calibration tests (a helper module, so no test module imports another)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.simulation.runner import run_days, without_joins
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR

SCALE = 0.02


def simulate(
    engine: Engine,
    start: date,
    end: date,
    seed: int = 7,
    scale: float = SCALE,
    no_join: bool = False,
    tmp: Path | None = None,
) -> Simulation:
    """Simulate start..end into a new database (`no_join`: the five later members never
    join, the counterfactual timeline written under `tmp`)."""
    timeline = without_joins(REFERENCE_DIR, start, tmp) if no_join else None
    schema.init(engine, REFERENCE_DIR, timeline)
    simulation = Simulation.create(
        engine,
        REFERENCE_DIR,
        seed,
        scale,
        start,
        end,
        "no_join" if no_join else "baseline",
        progress=lambda _message: None,
    )
    run_days(simulation, end)
    return simulation


def sqlite_engine(path: Path) -> Engine:
    return create_database_engine(f"sqlite:///{path}")
