"""Benchmark: the simulator's events per second, against a raw batched insert of the same
event rows measured in the same run (what storage alone could take).

    .venv/bin/python -m benchmarks.simulator [--scale 1.0] [--days 28] [--runs 3]
                                              [--no-postgres]

The consortium is populated once per backend (cardholders, catalogue, copies) and copied
for each run, so every run simulates the same days from the same state. Measured: the day
loop only (the rules, the behaviour model and the per-day writes, which the simulator's
writer process does beside it; the time ends when the last day is stored). The simulator
wants two cores: on a machine whose other core is busy, its events per second fall
towards what one core gives. The baseline inserts
the rows those days produced into an empty circulation_event table, one executemany per
simulated day, straight through the database driver.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text

from benchmarks.common import Measurement, format_table, ratio, write_results
from bibbla.config import get_settings
from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.simulation.runner import run_days
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR, create_postgres_database

START = date(2024, 3, 4)  # a Monday in an ordinary month


def _populate(url: str, scale: float, days: int) -> int:
    engine = create_database_engine(url)
    schema.init(engine, REFERENCE_DIR)
    Simulation.create(
        engine,
        REFERENCE_DIR,
        42,
        scale,
        START,
        START + timedelta(days=days - 1),
        progress=lambda _m: None,
    )
    with engine.connect() as c:
        last = c.execute(text("select last_id from feed_counter")).scalar_one()
    engine.dispose()
    return last


def _simulate(url: str, days: int) -> tuple[float, int]:
    engine = create_database_engine(url)
    simulation = Simulation.resume(engine, REFERENCE_DIR)
    began = time.perf_counter()
    reports = run_days(simulation, START + timedelta(days=days - 1))
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds, sum(r.events for r in reports)


def _raw_insert(source_url: str, target_url: str, first_id: int) -> tuple[float, int]:
    """Insert the day loop's event rows into an empty table, a day per executemany."""
    source = create_database_engine(source_url)
    with source.connect() as c:
        rows = c.execute(
            select(tables.circulation_event)
            .where(tables.circulation_event.c.id > first_id)
            .order_by(tables.circulation_event.c.id)
        ).all()
    source.dispose()
    target = create_engine(target_url)
    tables.circulation_event.create(target)
    sqlite = target.dialect.name == "sqlite"
    by_day: dict[str, list[tuple]] = {}
    for row in rows:
        by_day.setdefault(str(row.occurred_at)[:10], []).append(_stored(tuple(row), sqlite))
    columns = ", ".join(c.name for c in tables.circulation_event.columns)
    mark = "?" if sqlite else "%s"
    statement = (
        f"INSERT INTO circulation_event ({columns}) VALUES "
        f"({', '.join(mark for _ in tables.circulation_event.columns)})"
    )
    connection = target.raw_connection()
    began = time.perf_counter()
    cursor = connection.cursor()
    for day in by_day.values():
        cursor.executemany(statement, day)
        connection.commit()
    seconds = time.perf_counter() - began
    connection.close()
    target.dispose()
    return seconds, len(rows)


def _stored(values: tuple, sqlite: bool) -> tuple:
    """A row as the driver takes it: on SQLite timestamps as text; JSON as text."""
    *fields, details = values
    if sqlite:
        fields = [v.isoformat(sep=" ") if hasattr(v, "isoformat") else v for v in fields]
    return (*fields, details if isinstance(details, str) else json.dumps(details))


def measure_sqlite(args, folder: Path) -> list[Measurement]:
    template = folder / "template.sqlite"
    first_id = _populate(f"sqlite:///{template}", args.scale, args.days)
    simulated = Measurement("sqlite: simulator events per s", "events/s")
    inserted = Measurement("sqlite: raw batched insert rows per s", "rows/s")
    for run in range(args.runs):
        copy = folder / f"run{run}.sqlite"
        shutil.copy(template, copy)
        seconds, events = _simulate(f"sqlite:///{copy}", args.days)
        simulated.values.append(events / seconds)
        seconds, rows = _raw_insert(
            f"sqlite:///{copy}", f"sqlite:///{folder / f'raw{run}.sqlite'}", first_id
        )
        inserted.values.append(rows / seconds)
    return [
        simulated,
        inserted,
        Measurement(
            "sqlite: simulator / raw insert", "ratio", ratio(simulated.values, inserted.values)
        ),
    ]


def measure_postgres(args) -> list[Measurement]:
    admin = get_settings().test_postgres_url
    template_url, drop_template = create_postgres_database(admin)
    first_id = _populate(template_url, args.scale, args.days)
    template_name = template_url.rsplit("/", 1)[1]
    simulated = Measurement("postgresql: simulator events per s", "events/s")
    inserted = Measurement("postgresql: raw batched insert rows per s", "rows/s")
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        for run in range(args.runs):
            name = f"{template_name}_run{run}"
            with admin_engine.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
            url = template_url.rsplit("/", 1)[0] + f"/{name}"
            raw_url, drop_raw = create_postgres_database(admin)
            try:
                seconds, events = _simulate(url, args.days)
                simulated.values.append(events / seconds)
                seconds, rows = _raw_insert(url, raw_url, first_id)
                inserted.values.append(rows / seconds)
            finally:
                drop_raw()
                with admin_engine.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin_engine.dispose()
        drop_template()
    return [
        simulated,
        inserted,
        Measurement(
            "postgresql: simulator / raw insert", "ratio", ratio(simulated.values, inserted.values)
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as folder:
        results += measure_sqlite(args, Path(folder))
    if not args.no_postgres:
        results += measure_postgres(args)
    path = write_results("simulator", results, vars(args))
    print(
        format_table(
            f"Simulator, scale {args.scale}, {args.days} days from {START} ({args.runs} runs)",
            results,
        )
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
