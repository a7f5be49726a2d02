"""The simulation_run table: which simulation made this database's data, with its
parameters, and the last simulated day that is fully written (what a resume starts from)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import Connection, Engine, Row, func, insert, select

from operational.adapters import tables
from operational.adapters.feed import record_finished_day


class SimulationRuns:
    def __init__(self, engine: Engine):
        self.engine = engine

    def any(self) -> bool:
        """Whether the database holds a simulation run."""
        return self._count(tables.simulation_run) > 0

    def circulation_exists(self) -> bool:
        """Whether the database holds any circulation (a simulation starts without)."""
        return self._count(tables.circulation_event) > 0

    def _count(self, table) -> int:
        with self.engine.connect() as c:
            return c.execute(select(func.count()).select_from(table)).scalar_one()

    def latest(self) -> Row | None:
        """The newest run (a resume continues it), or None."""
        with self.engine.connect() as c:
            return c.execute(
                select(tables.simulation_run).order_by(tables.simulation_run.c.id.desc())
            ).first()

    def add(
        self,
        seed: int,
        scale: float,
        start: date,
        end: date,
        scenario: str,
        parameters: dict,
    ) -> int:
        """Record a new run, none of its days finished yet; returns its id."""
        now = datetime.now(UTC)
        with self.engine.begin() as c:
            return c.execute(
                insert(tables.simulation_run)
                .values(
                    seed=seed,
                    scale=scale,
                    start_date=start,
                    end_date=end,
                    last_finished_day=None,
                    scenario=scenario,
                    parameters=parameters,
                    created_at=now,
                    updated_at=now,
                )
                .returning(tables.simulation_run.c.id)
            ).scalar_one()

    @staticmethod
    def finishing(
        run_id: int, day: date, parameters: dict | None = None
    ) -> Callable[[Connection], None]:
        """What records that the run finished the day (and, if given, its new parameters),
        to run in the transaction that writes the day (picklable: a writer process may run
        it)."""
        return partial(record_finished_day, run_id=run_id, day=day, parameters=parameters)
