"""Repositories: how the service layer finds and adds domain objects in one session.

Every query a use case needs is a method here, so a different store (or a cache in front
of this one) only has to implement these.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.adapters.reference_cache import ReferenceCache, ReferenceSnapshot
from operational.adapters.tables import api_token, van_route
from operational.domain import errors
from operational.domain.access import ApiToken
from operational.domain.model import (
    ACTIVE_HOLD_STATUSES,
    Branch,
    CirculationRule,
    Collection,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
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


def found_or_raise(entity, what: str, key):
    """The entity, or NotFound naming what was looked for."""
    if entity is None:
        raise errors.NotFound(f"no {what} {key!r}")
    return entity


class Repository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, entity) -> None:
        self.session.add(entity)

    def _locked(self, cls, entity_id: int, *, shared: bool = False, key_share: bool = False):
        """Re-read a row under a write lock (SELECT ... FOR UPDATE), or under a lock
        shared with other shared lockers but not with writers (FOR SHARE), or one that
        still lets other transactions insert rows referring to it (FOR NO KEY UPDATE);
        SQLite holds its database write lock from BEGIN IMMEDIATE anyway."""
        return self.session.execute(
            select(cls)
            .where(cls.id == entity_id)
            .with_for_update(of=cls, read=shared, key_share=key_share)
            .execution_options(populate_existing=True)
        ).scalar_one()


class ReferenceRepository(Repository):
    """Municipalities, membership, branches, routes, collections and circulation rules.

    With a cache (an API worker's, reference_cache.py), the consortium, branches, rules
    and collections come from memory once the unit of work has read that the reference
    data has not changed; without one (batch jobs, the CLI), from the session."""

    def __init__(self, session: Session, cache: ReferenceCache | None = None):
        super().__init__(session)
        self._cache = cache
        self._snapshot: ReferenceSnapshot | None = None

    def consortium(self) -> Consortium:
        if self._cache is not None:
            return self._cached().consortium
        return self._consortium()

    def municipality(self, code: str) -> Municipality | None:
        return self.session.get(Municipality, code)

    def municipalities(self) -> list[Municipality]:
        return list(self.session.scalars(select(Municipality).order_by(Municipality.code)))

    def branches(self) -> list[Branch]:
        if self._cache is not None:
            return list(self._cached().branches)
        return self._branches()

    def collection(self, code: str) -> Collection:
        if self._cache is not None:
            found = self._cached().collections.get(code)
        else:
            found = self.session.get(Collection, code)
        return found_or_raise(found, "collection", code)

    def rule(self, media_type: MediaType, category: PatronCategory) -> CirculationRule:
        if self._cache is not None:
            found = self._cached().rules.get((media_type, category))
        else:
            found = self.session.get(CirculationRule, (media_type, category))
        return found_or_raise(found, "circulation rule for", f"{media_type}/{category}")

    def _cached(self) -> ReferenceSnapshot:
        """The snapshot, its version read once per unit of work."""
        if self._snapshot is None:
            assert self._cache is not None
            self._snapshot = self._cache.current(self.session, self._load)
        return self._snapshot

    def _load(self, session: Session, version: int | None) -> ReferenceSnapshot:
        branches = self._branches()
        snapshot = ReferenceSnapshot(
            version,
            self._consortium(),
            branches,
            {
                (r.media_type, r.patron_category): r
                for r in session.scalars(select(CirculationRule))
            },
            {c.code: c for c in session.scalars(select(Collection))},
        )
        # Out of the session, so that its rollback does not expire them: other requests'
        # threads read them after this unit of work has ended.
        for entity in [
            *snapshot.consortium.memberships,
            *snapshot.consortium.branches.values(),
            *branches,
            *snapshot.rules.values(),
            *snapshot.collections.values(),
        ]:
            if entity in session:
                session.expunge(entity)
        return snapshot

    def _consortium(self) -> Consortium:
        memberships = self.session.scalars(select(Membership)).all()
        branches = self.session.scalars(select(Branch)).all()
        routes = self.session.execute(select(van_route)).all()
        return Consortium.from_reference(memberships, branches, routes)

    def _branches(self) -> list[Branch]:
        return list(self.session.scalars(select(Branch).order_by(Branch.code)))

    def memberships_of(self, municipality_code: str) -> list[Membership]:
        return list(
            self.session.scalars(
                select(Membership)
                .where(Membership.municipality_code == municipality_code)
                .order_by(Membership.joined_on)
            )
        )


class TitleRepository(Repository):
    def get(self, title_id: int) -> Title:
        return found_or_raise(self.session.get(Title, title_id), "title", title_id)

    def lock(self, title_id: int, *, shared: bool = False) -> Title:
        """Lock a title: every use case that changes the copies or the hold queue of a
        title locks it first, which serialises them without deadlocks. Checkouts and
        returns only read the queue, and change it only through a hold they lock, so they
        share the lock: copies of one title lend and return side by side."""
        return self._locked(Title, title_id, shared=shared)


class ItemRepository(Repository):
    def by_barcode(self, barcode: str) -> Item:
        item = self.session.scalars(select(Item).where(Item.barcode == barcode)).one_or_none()
        return found_or_raise(item, "item with barcode", barcode)

    def barcode_taken(self, barcode: str) -> bool:
        return self.session.scalar(select(func.count()).where(Item.barcode == barcode)) > 0

    def lock(self, item_id: int) -> Item:
        return self._locked(Item, item_id)

    def of_title(self, title_id: int) -> list[Item]:
        """Every copy of the title still in the catalogue (not withdrawn)."""
        return list(
            self.session.scalars(
                select(Item)
                .where(Item.title_id == title_id, Item.status != ItemStatus.WITHDRAWN)
                .order_by(Item.home_branch_code, Item.id)
            )
        )

    def available_copies(self, title_id: int) -> list[Item]:
        return list(
            self.session.scalars(
                select(Item)
                .where(Item.title_id == title_id, Item.status == ItemStatus.AVAILABLE)
                .order_by(Item.id)
            )
        )


class PatronRepository(Repository):
    def by_card(self, card_number: str) -> Patron:
        patron = self.session.scalars(
            select(Patron).where(Patron.card_number == card_number)
        ).one_or_none()
        return found_or_raise(patron, "patron with card", card_number)

    def card_taken(self, card_number: str) -> bool:
        return (
            self.session.scalar(select(func.count()).where(Patron.card_number == card_number)) > 0
        )

    def get(self, patron_id: int) -> Patron:
        return found_or_raise(self.session.get(Patron, patron_id), "patron", patron_id)

    def find_by_card(self, card_number: str) -> Patron | None:
        return self.session.scalars(
            select(Patron).where(Patron.card_number == card_number)
        ).one_or_none()

    def lock(self, patron_id: int) -> Patron:
        """Serialises one patron's checkouts (the loan limit counts their open loans)."""
        return self._locked(Patron, patron_id, key_share=True)


class LoanRepository(Repository):
    def get(self, loan_id: int) -> Loan:
        return found_or_raise(self.session.get(Loan, loan_id), "loan", loan_id)

    def open_for_item(self, item_id: int) -> Loan | None:
        return self.session.scalars(
            select(Loan).where(Loan.item_id == item_id, Loan.returned_at.is_(None))
        ).one_or_none()

    def count_open(self, patron_id: int, media_type: MediaType) -> int:
        return self.session.scalar(
            select(func.count())
            .select_from(Loan)
            .join(Item, Loan.item_id == Item.id)
            .join(Title, Item.title_id == Title.id)
            .where(
                Loan.patron_id == patron_id,
                Loan.returned_at.is_(None),
                Title.media_type == media_type,
            )
        )

    def busiest_borrower_card(self) -> str | None:
        """The card number of the patron with the most open loans (ties: the first
        registered)."""
        loans = func.count(Loan.id)
        return self.session.execute(
            select(Patron.card_number)
            .join(Loan, Loan.patron_id == Patron.id)
            .where(Loan.returned_at.is_(None))
            .group_by(Patron.id, Patron.card_number)
            .order_by(loans.desc(), Patron.id)
            .limit(1)
        ).scalar_one_or_none()

    def of_patron(self, patron_id: int, open_only: bool = False) -> list[Loan]:
        query = select(Loan).where(Loan.patron_id == patron_id)
        if open_only:
            query = query.where(Loan.returned_at.is_(None))
        return list(self.session.scalars(query.order_by(Loan.checked_out_at.desc(), Loan.id)))


class HoldRepository(Repository):
    def get(self, hold_id: int) -> Hold:
        return found_or_raise(self.session.get(Hold, hold_id), "hold", hold_id)

    def waiting_for_title(self, title_id: int) -> list[Hold]:
        """The title's queue, oldest first."""
        waiting = (Hold.title_id == title_id, Hold.status == HoldStatus.WAITING)
        # Most titles have no queue, and every checkout and return asks. Loading holds
        # with their title, patron and item costs about a ms of CPU to set up even when
        # no row comes back, so one column is asked for first. (No hold can join the queue
        # between the two reads: the callers hold the title's lock, and placing a hold
        # takes it exclusively. One may leave it, filled by a return of another copy, as
        # it may just after the second read: callers that fill a hold lock it first.)
        if self.session.scalar(select(Hold.id).where(*waiting).limit(1)) is None:
            return []
        return list(
            self.session.scalars(select(Hold).where(*waiting).order_by(Hold.placed_at, Hold.id))
        )

    def active_of_patron(self, patron_id: int) -> list[Hold]:
        return list(
            self.session.scalars(
                select(Hold)
                .where(Hold.patron_id == patron_id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
                .order_by(Hold.placed_at, Hold.id)
            )
        )

    def active_for(self, patron_id: int, title_id: int) -> Hold | None:
        return self.session.scalars(
            select(Hold).where(
                Hold.patron_id == patron_id,
                Hold.title_id == title_id,
                Hold.status.in_(ACTIVE_HOLD_STATUSES),
            )
        ).first()

    def lock(self, hold_id: int) -> Hold:
        return self._locked(Hold, hold_id)

    def ready_for_item(self, item_id: int) -> Hold | None:
        return self.session.scalars(
            select(Hold).where(Hold.item_id == item_id, Hold.status == HoldStatus.READY)
        ).one_or_none()

    def ready_expiring(self, now: datetime) -> list[Hold]:
        return list(
            self.session.scalars(
                select(Hold)
                .where(Hold.status == HoldStatus.READY, Hold.expires_at <= now)
                .order_by(Hold.title_id, Hold.id)
            )
        )


class TransportRepository(Repository):
    def get(self, transport_id: int) -> Transport:
        return found_or_raise(self.session.get(Transport, transport_id), "transport", transport_id)

    def open(self) -> list[Transport]:
        return list(
            self.session.scalars(
                select(Transport)
                .where(Transport.received_at.is_(None), Transport.lost_at.is_(None))
                .order_by(Transport.id)
            )
        )

    def overdue(self, dispatched_before: datetime) -> list[Transport]:
        return list(
            self.session.scalars(
                select(Transport)
                .where(
                    Transport.received_at.is_(None),
                    Transport.lost_at.is_(None),
                    Transport.dispatched_at <= dispatched_before,
                )
                .order_by(Transport.id)
            )
        )


class TokenRepository(Repository):
    def by_hash(self, token_hash: str) -> ApiToken | None:
        """The token, read for a check only (every API request asks): one row through
        SQLAlchemy Core, not the ORM's loading, which costs twice the CPU. The token is
        not in the session; change one found by_name."""
        row = self.session.execute(
            select(api_token).where(api_token.c.token_hash == token_hash)
        ).one_or_none()
        if row is None:
            return None
        token = ApiToken(row.name, row.role, row.token_hash, row.created_at, row.expires_at)
        token.id, token.revoked_at = row.id, row.revoked_at
        return token

    def by_name(self, name: str) -> ApiToken | None:
        return self.session.scalars(select(ApiToken).where(ApiToken.name == name)).one_or_none()
