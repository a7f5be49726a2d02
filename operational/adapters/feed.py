"""Writing and reading the circulation event feed.

Feed order (docs/domain.md): a watermark reader asks for "all events after id N", which is only
safe if no id becomes visible after a higher one. Ids therefore come from one counter row
that the writing transaction updates (and so locks) just before it commits: a second writer
waits on that row until the first has committed, so commit order is id order on PostgreSQL
as on SQLite, and a rolled-back transaction gives its ids back instead of leaving a gap.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import Connection, bindparam, insert, select, union_all, update
from sqlalchemy.orm import Session

from operational.adapters.bulk import insert_rows
from operational.adapters.tables import (
    circulation_event,
    database_identity,
    feed_counter,
)
from operational.adapters.tables import simulation_run as simulation_run_table
from operational.domain.errors import Conflict
from operational.domain.events import CirculationEvent

FEED = "circulation_event"


def _id(entity: str) -> str:
    return f"(None if e.{entity} is None else e.{entity}.id)"


# circulation_event's columns in order, each as an expression of the event `e` numbered
# `i`: the one place an event's row is spelt out.
_EVENT_COLUMNS = (
    "i",
    "e.occurred_at",
    "str(e.type)",
    "e.branch_code",
    _id("item"),
    "e.title_id",
    _id("patron"),
    _id("loan"),
    _id("hold"),
    _id("transport"),
    "e.from_branch_code",
    "e.to_branch_code",
    "e.due_at",
    "e.reason",
    "e.details",
)
_event_row = eval(f"lambda i, e: ({', '.join(_EVENT_COLUMNS)},)")


def event_row(event_id: int, event: CirculationEvent) -> tuple:
    """The event as a row of circulation_event, in column order."""
    return _event_row(event_id, event)


def write_events(session: Session | Connection, events: Sequence[CirculationEvent]) -> None:
    """Append events with the next ids; call last in the transaction, after the flush that
    gave new loans, holds and transports their ids."""
    if not events:
        return
    connection = session.connection() if isinstance(session, Session) else session
    if connection.dialect.name == "postgresql":
        # One statement, so the counter's lock is held for one round trip before the
        # commit rather than two: every other writer queues on it meanwhile.
        _numbered_insert(connection, events)
        return
    last_id = connection.execute(
        update(feed_counter)
        .where(feed_counter.c.name == FEED)
        .values(last_id=feed_counter.c.last_id + len(events))
        .returning(feed_counter.c.last_id)
    ).scalar_one()
    first_id = last_id - len(events) + 1
    insert_rows(
        connection,
        circulation_event,
        [event_row(first_id + offset, event) for offset, event in enumerate(events)],
    )


@contextmanager
def sent_with_commit(session: Session) -> Iterator[None]:
    """Within the block, write_events and the COMMIT go to PostgreSQL together (psycopg's
    pipeline mode: one round trip, not two, while the counter's lock is held, so the next
    writer waits that much less). Elsewhere, the block just runs."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name != "postgresql" or not hasattr(driver, "pipeline"):
        yield
        return
    with driver.pipeline():
        yield


def _numbered_insert(connection: Connection, events: Sequence[CirculationEvent]) -> None:
    """WITH counter AS (UPDATE feed_counter … RETURNING last_id) INSERT INTO
    circulation_event SELECT last_id - n + number, … FROM counter [UNION ALL …]: the
    events numbered by the database in the statement that moves the counter."""
    parameters = {
        f"{name}_{number}": value
        for number, event in enumerate(events, 1)
        for name, value in zip(_NAMES[1:], event_row(number, event)[1:], strict=True)
    }
    connection.execute(_numbered_insert_of(len(events)), parameters)


_NAMES = [c.name for c in circulation_event.columns]


@functools.cache
def _numbered_insert_of(count: int):
    """The statement for `count` events, with a bound parameter for each value: built once
    per count, and compiled once by SQLAlchemy (a VALUES list of the values themselves,
    as before, was built and compiled anew for every transaction: a few ms of CPU)."""
    columns = list(circulation_event.columns)
    counter = (
        update(feed_counter)
        .where(feed_counter.c.name == FEED)
        .values(last_id=feed_counter.c.last_id + count)
        .returning(feed_counter.c.last_id)
        .cte("counter")
    )
    numbered = [
        select(
            counter.c.last_id - (count - number),
            *(bindparam(f"{c.name}_{number}", type_=c.type) for c in columns[1:]),
        )
        for number in range(1, count + 1)
    ]
    rows = numbered[0] if count == 1 else union_all(*numbered)
    return insert(circulation_event).add_cte(counter).from_select(_NAMES, rows)


def append_events(connection: Connection, rows: Sequence[tuple]) -> None:
    """Append events given as rows (event_row), already numbered from the feed counter's
    current value + 1: a bulk writer that has the database to itself numbers its batch in
    advance. Refuses if the counter has moved since. Call last in the transaction, like
    write_events."""
    if not rows:
        return
    count = len(rows)
    last_id = connection.execute(
        update(feed_counter)
        .where(feed_counter.c.name == FEED)
        .values(last_id=feed_counter.c.last_id + count)
        .returning(feed_counter.c.last_id)
    ).scalar_one()
    if rows[0][0] != last_id - count + 1 or rows[-1][0] != last_id:
        raise Conflict(
            f"the feed counter is at {last_id - count}, but the batch's events are "
            f"numbered from {rows[0][0]}"
        )
    insert_rows(connection, circulation_event, rows)


def read_events(connection: Connection | Session, after: int, limit: int) -> list[dict]:
    rows = connection.execute(
        select(circulation_event)
        .where(circulation_event.c.id > after)
        .order_by(circulation_event.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def record_finished_day(
    connection: Connection, run_id: int, day: date, parameters: dict | None = None
) -> None:
    """Record how far a simulation got, in the transaction that writes that day (and its
    parameters, when the day changed them: a municipality entering on its join date)."""
    values = {"last_finished_day": day, "updated_at": datetime.now(UTC)}
    if parameters is not None:
        values["parameters"] = parameters
    connection.execute(
        update(simulation_run_table).where(simulation_run_table.c.id == run_id).values(**values)
    )


def database_id(connection: Connection | Session) -> str | None:
    return connection.execute(select(database_identity.c.database_id)).scalar_one_or_none()


def simulation_run(connection: Connection | Session) -> dict | None:
    """The parameters of the simulation that made this database's data, if any."""
    row = connection.execute(
        select(
            simulation_run_table.c.seed,
            simulation_run_table.c.scale,
            simulation_run_table.c.start_date,
            simulation_run_table.c.end_date,
            simulation_run_table.c.last_finished_day,
            simulation_run_table.c.scenario,
        ).order_by(simulation_run_table.c.id.desc())
    ).first()
    return dict(row._mapping) if row else None
