"""What the use cases need from storage, as ports: the repositories and the unit of work.

Two stores implement them: the database through SQLAlchemy (adapters/repository.py and
adapters/unit_of_work.py: one transaction per use case, for the API and the CLI) and
the simulator's in-memory batch (adapters/batch.py: written once per simulated day). The
service tests run every use case on both (tests/operational/integration/test_services.py),
so where the two answer differently a test fails.

Orders are part of the contract: a hold queue is oldest first, a patron's loans newest
first. "Not found" is `errors.NotFound`, with the same words in both stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, Self

from operational.domain.access import ApiToken
from operational.domain.events import CirculationEvent
from operational.domain.model import (
    Branch,
    CirculationRule,
    Collection,
    Hold,
    Item,
    Loan,
    MediaType,
    Membership,
    Municipality,
    Patron,
    PatronCategory,
    Title,
    Transport,
)
from operational.domain.rules import Consortium


class ReferenceRepository(Protocol):
    """Municipalities, membership, branches, collections and circulation rules."""

    def municipality(self, code: str) -> Municipality | None: ...

    def municipalities(self) -> list[Municipality]:
        """Ordered by code."""
        ...

    def branches(self) -> list[Branch]:
        """Ordered by code."""
        ...

    def collection(self, code: str) -> Collection: ...

    def rule(self, media_type: MediaType, category: PatronCategory) -> CirculationRule: ...

    def memberships_of(self, municipality_code: str) -> list[Membership]:
        """Ordered by the day joined."""
        ...

    def add(self, entity: Membership) -> None:
        """A new membership period (the batch store refuses: its consortium is fixed
        for the run)."""
        ...


class TitleRepository(Protocol):
    def add(self, entity: Title) -> None: ...

    def get(self, title_id: int) -> Title: ...

    def lock(self, title_id: int) -> Title:
        """The title, locked against other writers until commit: every use case that
        changes a title's copies or hold queue locks the title first."""
        ...


class ItemRepository(Protocol):
    def add(self, entity: Item) -> None: ...

    def by_barcode(self, barcode: str) -> Item: ...

    def barcode_taken(self, barcode: str) -> bool: ...

    def lock(self, item_id: int) -> Item: ...

    def available_copies(self, title_id: int) -> list[Item]:
        """The title's copies on a shelf, by id."""
        ...


class PatronRepository(Protocol):
    def add(self, entity: Patron) -> None: ...

    def by_card(self, card_number: str) -> Patron: ...

    def card_taken(self, card_number: str) -> bool: ...

    def lock(self, patron_id: int) -> Patron: ...


class LoanRepository(Protocol):
    def add(self, entity: Loan) -> None: ...

    def get(self, loan_id: int) -> Loan:
        """A loan the rules may still change (the batch store keeps only those: open
        loans, and those closed in its current batch)."""
        ...

    def open_for_item(self, item_id: int) -> Loan | None: ...

    def count_open(self, patron_id: int, media_type: MediaType) -> int: ...

    def of_patron(self, patron_id: int, open_only: bool = False) -> list[Loan]:
        """Newest first (checked out latest; ties by id). The batch store knows only the
        loans `get` finds."""
        ...


class HoldRepository(Protocol):
    def add(self, entity: Hold) -> None: ...

    def get(self, hold_id: int) -> Hold:
        """A hold the rules may still change (the batch store keeps only the active ones,
        and those closed in its current batch)."""
        ...

    def waiting_for_title(self, title_id: int) -> list[Hold]:
        """The title's queue, oldest first (placed_at, then id)."""
        ...

    def active_for(self, patron_id: int, title_id: int) -> Hold | None: ...

    def ready_for_item(self, item_id: int) -> Hold | None: ...

    def ready_expiring(self, now: datetime) -> list[Hold]:
        """Ready holds whose pickup window ended by now, by title id then id."""
        ...


class TransportRepository(Protocol):
    def add(self, entity: Transport) -> None: ...

    def get(self, transport_id: int) -> Transport:
        """A transport the rules may still change (the batch store keeps only the open
        ones, and those closed in its current batch)."""
        ...

    def open(self) -> list[Transport]:
        """Neither received nor lost, by id."""
        ...

    def overdue(self, dispatched_before: datetime) -> list[Transport]:
        """Open transports dispatched at or before the moment, by id."""
        ...


class UnitOfWork(Protocol):
    """`with uow: ...; uow.commit()` runs one use case atomically: leaving the block
    without commit() undoes its events (and, in the database, its changes)."""

    reference: ReferenceRepository
    titles: TitleRepository
    items: ItemRepository
    patrons: PatronRepository
    loans: LoanRepository
    holds: HoldRepository
    transports: TransportRepository

    @property
    def consortium(self) -> Consortium:
        """Membership timeline, branches and van routes, and the rules derived from them."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info) -> None: ...

    def record(self, events: CirculationEvent | Iterable[CirculationEvent]) -> None: ...

    def refresh(self, entity) -> None:
        """Re-read an entity loaded before a lock was taken."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class TokenRepository(Protocol):
    def add(self, entity: ApiToken) -> None: ...

    def by_hash(self, token_hash: str) -> ApiToken | None: ...

    def by_name(self, name: str) -> ApiToken | None: ...


class TokenUnitOfWork(Protocol):
    """What the API-token use cases (service_layer/access.py) need: the database's only
    (the batch store has no tokens)."""

    tokens: TokenRepository

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info) -> None: ...

    def commit(self) -> None: ...
