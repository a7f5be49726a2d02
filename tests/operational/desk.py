"""A circulation desk for tests: calls the lending core's use cases with short arguments,
on either store the use cases run on (service_layer/ports.py): the database, one
transaction per use case ("sql"), or the simulator's in-memory batch ("batch"), written
to the database after every use case so the tests read the same tables either way."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Engine, select

from operational.adapters import tables
from operational.adapters.batch import BatchUnitOfWork, MemoryState
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.service_layer import services
from operational.service_layer.ports import UnitOfWork

NORA, LINDESBERG, HALLEFORS, KUMLA, LAXA = "1884", "1885", "1863", "1881", "1860"
STORES = ("sql", "batch")
T = TypeVar("T")


class Desk:
    def __init__(self, engine: Engine, clock: SimulatedClock, store: str = "sql"):
        if store not in STORES:
            raise ValueError(f"store is one of {STORES}, not {store!r}")
        self.engine = engine
        self.clock = clock
        self.store = store
        self._numbers = itertools.count(1)
        self._batch: BatchUnitOfWork | None = None

    def uow(self) -> UnitOfWork:
        if self.store == "sql":
            return SqlAlchemyUnitOfWork(self.engine)
        if self._batch is None:
            # Loaded when first used: after whatever the test put in the database first.
            self._batch = BatchUnitOfWork(MemoryState(self.engine))
        return self._batch

    def run(self, use_case: Callable[[UnitOfWork], T]) -> T:
        """Run a use case on this desk's store; the batch store writes what it did at
        once (also after a refusal: it must have written nothing)."""
        uow = self.uow()
        try:
            return use_case(uow)
        finally:
            if isinstance(uow, BatchUnitOfWork):
                uow.flush()

    def patron(self, municipality: str = NORA, category=PatronCategory.ADULT, **personal) -> str:
        card = f"C{next(self._numbers):06d}"
        self.run(
            lambda uow: services.register_patron(
                uow, self.clock, card, municipality, category, **personal
            )
        )
        return card

    def title(self, media_type=MediaType.BOOK, language="sv", collection_code=None) -> int:
        number = next(self._numbers)
        return self.run(
            lambda uow: services.add_title(
                uow,
                self.clock,
                f"Titel {number}",
                "Författare",
                media_type,
                Audience.ADULT,
                language=language,
                collection_code=collection_code,
            )
        ).id

    def item(self, title_id: int, branch: str) -> str:
        barcode = f"I{next(self._numbers):07d}"
        self.run(lambda uow: services.add_item(uow, self.clock, barcode, title_id, branch))
        return barcode

    def checkout(self, card: str, barcode: str, branch: str):
        return self.run(lambda uow: services.checkout(uow, self.clock, card, barcode, branch))

    def checkin(self, barcode: str, branch: str):
        return self.run(lambda uow: services.checkin(uow, self.clock, barcode, branch))

    def hold(self, card: str, title_id: int, pickup: str):
        return self.run(lambda uow: services.place_hold(uow, self.clock, card, title_id, pickup))

    def renew(self, loan_id: int):
        return self.run(lambda uow: services.renew(uow, self.clock, loan_id))

    def cancel(self, hold_id: int, reason: str = "patron"):
        return self.run(lambda uow: services.cancel_hold(uow, self.clock, hold_id, reason))

    def dispatch(self, transport_id: int):
        return self.run(lambda uow: services.dispatch_transport(uow, self.clock, transport_id))

    def receive(self, transport_id: int):
        return self.run(lambda uow: services.receive_transport(uow, self.clock, transport_id))

    def deliver(self, transport_id: int, days: int = 1):
        """Dispatch now and receive `days` later."""
        self.dispatch(transport_id)
        self.clock.advance(timedelta(days=days))
        return self.receive(transport_id)

    # -- reading state straight from the tables

    def item_row(self, barcode: str):
        with self.engine.connect() as c:
            return c.execute(select(tables.item).where(tables.item.c.barcode == barcode)).one()

    def hold_row(self, hold_id: int):
        with self.engine.connect() as c:
            return c.execute(select(tables.hold).where(tables.hold.c.id == hold_id)).one()

    def events(self, after: int = 0) -> list:
        with self.engine.connect() as c:
            return c.execute(
                select(tables.circulation_event)
                .where(tables.circulation_event.c.id > after)
                .order_by(tables.circulation_event.c.id)
            ).all()

    def event_types(self, after: int = 0) -> list[str]:
        return [e.type for e in self.events(after)]

    def last_event_id(self) -> int:
        events = self.events()
        return events[-1].id if events else 0
