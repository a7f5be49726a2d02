"""The unit of work: one database transaction per use case, with its circulation events
written in that same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from operational.adapters import feed, orm
from operational.adapters.catalogue import CatalogueSearch
from operational.adapters.database import READ_ONLY
from operational.adapters.reference_cache import ReferenceCache, mark_changed
from operational.adapters.repository import (
    HoldRepository,
    ItemRepository,
    LoanRepository,
    PatronRepository,
    ReferenceRepository,
    TitleRepository,
    TokenRepository,
    TransportRepository,
)
from operational.adapters.visitor_repository import VisitorRepository
from operational.domain.events import CirculationEvent
from operational.domain.model import Branch, CirculationRule, Collection, Membership
from operational.domain.rules import Consortium


class SqlAlchemyUnitOfWork:
    """`with uow: ...; uow.commit()` runs one use case in one transaction.

    Leaving the block without commit() rolls everything back, events included.
    """

    def __init__(
        self,
        engine: Engine | Connection,
        *,
        read_only: bool = False,
        reference_cache: ReferenceCache | None = None,
    ):
        """engine: the database, or one connection already taken from its pool (an API
        request's: the caller's token was looked up on it). reference_cache: an API
        worker's reference data in memory (reference_cache.py)."""
        self._reference_cache = reference_cache
        orm.start_mappers()
        if isinstance(engine, Connection):
            bind = self._connection = engine  # its options are set when the work begins
        else:
            self._connection = None
            bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
        self._bind = bind
        self.read_only = read_only
        self.session: Session | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        if self._connection is not None:
            # A connection's options change in place: say which kind of transaction this
            # one begins (on SQLite, BEGIN or BEGIN IMMEDIATE).
            self._connection.execution_options(**{READ_ONLY: self.read_only})
        # Objects stay readable after commit: the API answers from them. (A Session, not
        # a sessionmaker: that makes a new Session class each time, a quarter of a ms of
        # CPU for each of a request's units of work.)
        self.session = Session(bind=self._bind, expire_on_commit=False)
        self.events: list[CirculationEvent] = []
        self._consortium: Consortium | None = None
        session = self.session
        self.reference = ReferenceRepository(session, self._reference_cache)
        self.titles = TitleRepository(session)
        self.items = ItemRepository(session)
        self.patrons = PatronRepository(session)
        self.loans = LoanRepository(session)
        self.holds = HoldRepository(session)
        self.transports = TransportRepository(session)
        self.tokens = TokenRepository(session)
        self.visitors = VisitorRepository(session)
        self.catalogue = CatalogueSearch(session)
        return self

    def __exit__(self, *exc_info) -> None:
        assert self.session is not None
        self.session.rollback()
        self.session.close()

    @property
    def consortium(self) -> Consortium:
        if self._consortium is None:
            self._consortium = self.reference.consortium()
        return self._consortium

    def record(self, events: CirculationEvent | Iterable[CirculationEvent]) -> None:
        if isinstance(events, CirculationEvent):
            self.events.append(events)
        else:
            self.events.extend(events)

    def refresh(self, entity) -> None:
        """Re-read an entity loaded before a lock was taken (another writer may have
        changed it in between)."""
        assert self.session is not None
        self.session.refresh(entity)

    def commit(self) -> None:
        assert self.session is not None
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit changes")
        if _changes_reference_data(self.session):
            mark_changed(self.session)
        # New loans, holds and transports get their ids here; the events refer to them.
        self.session.flush()
        with feed.sent_with_commit(self.session):
            feed.write_events(self.session, self.events)
            self.session.commit()
        self.events = []

    def rollback(self) -> None:
        assert self.session is not None
        self.session.rollback()
        self.events = []


# The reference data the API workers keep in memory (reference_cache.py).
_REFERENCE_CLASSES = (Membership, Branch, CirculationRule, Collection)


def _changes_reference_data(session: Session) -> bool:
    """Whether the unit of work adds, changes or deletes reference data (before the flush
    that writes it: the flush empties these sets)."""
    return any(
        isinstance(entity, _REFERENCE_CLASSES)
        for entity in (*session.new, *session.dirty, *session.deleted)
    )
