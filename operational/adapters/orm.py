"""Maps the domain classes onto the tables (SQLAlchemy imperative mapping), so the domain
model stays free of persistence code."""

from __future__ import annotations

import threading

from sqlalchemy.orm import registry, relationship

from operational.adapters import tables
from operational.domain import model
from operational.domain.access import ApiToken

# Many-to-one links load eagerly: use cases always need them, and the API reads them after
# the unit of work has closed its session.
mapper_registry = registry(metadata=tables.metadata)
_started = False
_lock = threading.Lock()


def start_mappers() -> None:
    """Map every domain class once per process (idempotent and thread-safe: API worker
    threads may all arrive here with their first request)."""
    global _started
    with _lock:
        if not _started:
            _map_all(mapper_registry)
            _started = True


def _map_all(reg: registry) -> None:
    reg.map_imperatively(model.Municipality, tables.municipality)
    reg.map_imperatively(model.Membership, tables.membership)
    reg.map_imperatively(model.Branch, tables.branch)
    reg.map_imperatively(model.Collection, tables.collection)
    reg.map_imperatively(model.CirculationRule, tables.circulation_rule)
    reg.map_imperatively(model.Title, tables.title)
    reg.map_imperatively(
        model.Item, tables.item, properties={"title": relationship(model.Title, lazy="joined")}
    )
    reg.map_imperatively(model.Patron, tables.patron)
    reg.map_imperatively(
        model.Hold,
        tables.hold,
        properties={
            "title": relationship(model.Title, lazy="joined"),
            "patron": relationship(model.Patron, lazy="joined"),
            "item": relationship(model.Item, lazy="joined"),
        },
    )
    reg.map_imperatively(
        model.Loan,
        tables.loan,
        properties={
            "item": relationship(model.Item, lazy="joined"),
            "patron": relationship(model.Patron, lazy="joined"),
            "hold": relationship(model.Hold),
        },
    )
    reg.map_imperatively(
        model.Transport,
        tables.transport,
        properties={
            "item": relationship(model.Item, lazy="joined"),
            "hold": relationship(model.Hold, lazy="joined"),
        },
    )
    reg.map_imperatively(ApiToken, tables.api_token)
