"""Where the visitors' web keeps PIN hashes and signed-in sessions (SQLAlchemy Core on the
unit of work's session)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from operational.adapters.tables import patron_pin, visitor_session
from operational.domain.visitors import VisitorSession


class VisitorRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- PINs

    def pin_hash(self, patron_id: int) -> str | None:
        return self.session.execute(
            select(patron_pin.c.pin_hash).where(patron_pin.c.patron_id == patron_id)
        ).scalar_one_or_none()

    def set_pin_hash(self, patron_id: int, pin_hash: str, now: datetime) -> None:
        values = {"pin_hash": pin_hash, "set_at": now}
        changed = self.session.execute(
            update(patron_pin).where(patron_pin.c.patron_id == patron_id).values(**values)
        ).rowcount
        if not changed:
            self.session.execute(insert(patron_pin).values(patron_id=patron_id, **values))

    # -- sessions

    def add_session(self, visit: VisitorSession) -> None:
        visit.id = self.session.execute(
            insert(visitor_session)
            .values(
                token_hash=visit.token_hash,
                patron_id=visit.patron_id,
                created_at=visit.created_at,
                last_seen_at=visit.last_seen_at,
                expires_at=visit.expires_at,
            )
            .returning(visitor_session.c.id)
        ).scalar_one()

    def session_by_hash(self, token_hash: str) -> VisitorSession | None:
        row = self.session.execute(
            select(visitor_session).where(visitor_session.c.token_hash == token_hash)
        ).one_or_none()
        if row is None:
            return None
        visit = VisitorSession(row.patron_id, row.token_hash, row.created_at)
        visit.id = row.id
        visit.last_seen_at = row.last_seen_at
        visit.expires_at = row.expires_at
        return visit

    def touch(self, visit: VisitorSession, now: datetime) -> None:
        visit.last_seen_at = now
        self.session.execute(
            update(visitor_session).where(visitor_session.c.id == visit.id).values(last_seen_at=now)
        )

    def end_session(self, token_hash: str) -> None:
        self.session.execute(
            delete(visitor_session).where(visitor_session.c.token_hash == token_hash)
        )

    def end_sessions_of(self, patron_id: int) -> None:
        self.session.execute(
            delete(visitor_session).where(visitor_session.c.patron_id == patron_id)
        )

    def end_stale_sessions(self, idle_since: datetime, now: datetime) -> None:
        self.session.execute(
            delete(visitor_session).where(
                (visitor_session.c.expires_at <= now)
                | (visitor_session.c.last_seen_at <= idle_since)
            )
        )
