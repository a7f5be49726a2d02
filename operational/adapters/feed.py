"""Writing and reading the circulation event feed.

Feed order (domain.md): a watermark reader asks for "all events after id N", which is only
safe if no id becomes visible after a higher one. Ids therefore come from one counter row
that the writing transaction updates (and so locks) just before it commits: a second writer
waits on that row until the first has committed, so commit order is id order on PostgreSQL
as on SQLite, and a rolled-back transaction gives its ids back instead of leaving a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from operational.adapters.tables import circulation_event, database_identity, feed_counter
from operational.domain.events import CirculationEvent

FEED = "circulation_event"


def _id(entity: Any) -> int | None:
    return None if entity is None else entity.id


def event_row(event_id: int, event: CirculationEvent) -> dict[str, Any]:
    return {
        "id": event_id,
        "occurred_at": event.occurred_at,
        "type": str(event.type),
        "branch_code": event.branch_code,
        "item_id": _id(event.item),
        "title_id": event.title_id,
        "patron_id": _id(event.patron),
        "loan_id": _id(event.loan),
        "hold_id": _id(event.hold),
        "transport_id": _id(event.transport),
        "from_branch_code": event.from_branch_code,
        "to_branch_code": event.to_branch_code,
        "due_at": event.due_at,
        "reason": event.reason,
        "details": event.details,
    }


def write_events(session: Session, events: Sequence[CirculationEvent]) -> None:
    """Append events with the next ids; call last in the transaction, after the flush that
    gave new loans, holds and transports their ids."""
    if not events:
        return
    last_id = session.execute(
        update(feed_counter)
        .where(feed_counter.c.name == FEED)
        .values(last_id=feed_counter.c.last_id + len(events))
        .returning(feed_counter.c.last_id)
    ).scalar_one()
    first_id = last_id - len(events) + 1
    session.execute(
        insert(circulation_event),
        [event_row(first_id + offset, event) for offset, event in enumerate(events)],
    )


def read_events(connection: Connection | Session, after: int, limit: int) -> list[dict]:
    rows = connection.execute(
        select(circulation_event)
        .where(circulation_event.c.id > after)
        .order_by(circulation_event.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]


def database_id(connection: Connection | Session) -> str | None:
    return connection.execute(select(database_identity.c.database_id)).scalar_one_or_none()
