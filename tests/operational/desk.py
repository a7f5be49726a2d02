"""A circulation desk for tests: calls the lending core's use cases with short arguments."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import Engine, select

from operational.adapters import tables
from operational.clock import SimulatedClock
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.service_layer import services
from operational.service_layer.unit_of_work import SqlAlchemyUnitOfWork

NORA, LINDESBERG, HALLEFORS, KUMLA, LAXA = "1884", "1885", "1863", "1881", "1860"


class Desk:
    def __init__(self, engine: Engine, clock: SimulatedClock):
        self.engine = engine
        self.clock = clock
        self._numbers = itertools.count(1)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)

    def patron(self, municipality: str = NORA, category=PatronCategory.ADULT, **personal) -> str:
        card = f"C{next(self._numbers):06d}"
        services.register_patron(self.uow(), self.clock, card, municipality, category, **personal)
        return card

    def title(self, media_type=MediaType.BOOK, language="sv", collection_code=None) -> int:
        number = next(self._numbers)
        return services.add_title(
            self.uow(),
            self.clock,
            f"Titel {number}",
            "Författare",
            media_type,
            Audience.ADULT,
            language=language,
            collection_code=collection_code,
        ).id

    def item(self, title_id: int, branch: str) -> str:
        barcode = f"I{next(self._numbers):07d}"
        services.add_item(self.uow(), self.clock, barcode, title_id, branch)
        return barcode

    def checkout(self, card: str, barcode: str, branch: str):
        return services.checkout(self.uow(), self.clock, card, barcode, branch)

    def checkin(self, barcode: str, branch: str):
        return services.checkin(self.uow(), self.clock, barcode, branch)

    def hold(self, card: str, title_id: int, pickup: str):
        return services.place_hold(self.uow(), self.clock, card, title_id, pickup)

    def renew(self, loan_id: int):
        return services.renew(self.uow(), self.clock, loan_id)

    def cancel(self, hold_id: int, reason: str = "patron"):
        return services.cancel_hold(self.uow(), self.clock, hold_id, reason)

    def dispatch(self, transport_id: int):
        return services.dispatch_transport(self.uow(), self.clock, transport_id)

    def receive(self, transport_id: int):
        return services.receive_transport(self.uow(), self.clock, transport_id)

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
