"""The visitors' use cases: search the shared catalogue, see a title's copies, sign in with
card and PIN, and borrow-related actions on one's own loans and holds.

Reads run in a read-only unit of work. Every change a visitor makes to circulation goes
through the same use case staff use (services.renew, services.place_hold,
services.cancel_hold), so the same rules apply and the same circulation events are written;
what is added here is only that a visitor may touch nothing but their own loans and holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from operational.adapters.catalogue import CopyRow, SearchPage, SearchQuery, copies_of
from operational.adapters.pin_hashing import Argon2PinHasher
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork as UnitOfWork
from operational.clock import Clock, local_date
from operational.domain import errors
from operational.domain.model import (
    Branch,
    BranchKind,
    Hold,
    HoldStatus,
    ItemStatus,
    Loan,
    Patron,
    PatronCategory,
    Title,
)
from operational.domain.visitors import (
    SESSION_IDLE_TIMEOUT,
    VisitorSession,
    check_new_pin,
    csrf_token_for,
    estimated_ready_date,
    hash_session_secret,
    new_session_secret,
)
from operational.service_layer import services


def _detached(reading: UnitOfWork, value):
    """value, readable after the unit of work ends: a read-only one ends by rolling back,
    which would expire every object loaded (a writing one commits without expiring)."""
    reading.session.expunge_all()
    return value


class LoginRefused(errors.DomainError):
    """Wrong card number or PIN (which of the two is never said)."""


class NotSignedIn(errors.DomainError):
    """No session, or one that has ended (logged out, idle too long, too old)."""


class NothingToReserve(errors.Conflict):
    """No copy of the title may fill a hold of this patron's on this date (its owners do
    not share the library system with the patron's municipality yet)."""


# ----------------------------------------------------------------------------------- PINs


def set_pin(uow: UnitOfWork, clock: Clock, hasher: Argon2PinHasher, card_number: str, pin: str):
    """Staff set a patron's PIN: only its hash is stored, and the patron's open sessions
    end (whoever knew the old PIN is signed out)."""
    check_new_pin(pin)
    pin_hash = hasher.hash(pin)  # before the transaction: it takes tens of milliseconds
    with uow:
        patron = uow.patrons.by_card(card_number)
        uow.visitors.set_pin_hash(patron.id, pin_hash, clock.now())
        uow.visitors.end_sessions_of(patron.id)
        uow.commit()


# ------------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Visitor:
    """The signed-in patron, as the pages need them (personal: shown only to themselves)."""

    patron_id: int
    card_number: str
    name: str | None
    home_municipality_code: str
    home_branch_code: str
    category: PatronCategory
    session_id: int
    csrf_token: str
    needs_touch: bool = False

    @property
    def masked_card(self) -> str:
        return "•••• " + self.card_number[-4:]


def log_in(
    reading: UnitOfWork,
    uow: UnitOfWork,
    clock: Clock,
    hasher: Argon2PinHasher,
    card_number: str,
    pin: str,
) -> str:
    """Check card and PIN and open a session; returns its secret (for the cookie).

    The PIN is checked outside the writing transaction (hashing takes tens of
    milliseconds, and on SQLite a writing transaction holds the database's write lock).
    """
    with reading:
        patron = reading.patrons.find_by_card(card_number)
        patron_id = patron.id if patron is not None else None
        pin_hash = reading.visitors.pin_hash(patron_id) if patron_id is not None else None
    if not hasher.verify(pin_hash, pin) or patron_id is None:
        raise LoginRefused("wrong card number or PIN")
    fresh_hash = hasher.hash(pin) if hasher.needs_rehash(pin_hash) else None
    secret = new_session_secret()
    with uow:
        now = clock.now()
        uow.visitors.end_stale_sessions(now - SESSION_IDLE_TIMEOUT, now)
        uow.visitors.add_session(VisitorSession(patron_id, hash_session_secret(secret), now))
        if fresh_hash is not None:
            uow.visitors.set_pin_hash(patron_id, fresh_hash, now)
        uow.commit()
    return secret


def signed_in(reading: UnitOfWork, clock: Clock, secret: str | None) -> Visitor:
    """The visitor whose session secret this is, or NotSignedIn."""
    if not secret:
        raise NotSignedIn("not signed in")
    with reading:
        visit = reading.visitors.session_by_hash(hash_session_secret(secret))
        now = clock.now()
        if visit is None or visit.refusal(now) is not None:
            raise NotSignedIn("the session has ended; sign in again")
        patron = reading.patrons.get(visit.patron_id)
        return Visitor(
            patron_id=patron.id,
            card_number=patron.card_number,
            name=patron.name,
            home_municipality_code=patron.home_municipality_code,
            home_branch_code=patron.home_branch_code,
            category=PatronCategory(patron.category),
            session_id=visit.id,
            csrf_token=csrf_token_for(secret),
            needs_touch=visit.needs_touch(now),
        )


def touch_session(uow: UnitOfWork, clock: Clock, secret: str) -> None:
    """Record that the session is in use (at most once a minute: see needs_touch)."""
    with uow:
        visit = uow.visitors.session_by_hash(hash_session_secret(secret))
        if visit is not None:
            uow.visitors.touch(visit, clock.now())
            uow.commit()


def log_out(uow: UnitOfWork, secret: str) -> None:
    with uow:
        uow.visitors.end_session(hash_session_secret(secret))
        uow.commit()


# ------------------------------------------------------------------------------ searching


def search(reading: UnitOfWork, query: SearchQuery) -> SearchPage:
    with reading:
        return _detached(reading, reading.catalogue.search(query))


def lending_branches(reading: UnitOfWork) -> list[Branch]:
    """The branches a visitor can choose or visit (the van's hub lends nothing)."""
    with reading:
        return _detached(
            reading, [b for b in reading.reference.branches() if b.kind != BranchKind.HUB]
        )


@dataclass(frozen=True)
class TitleView:
    title: Title
    subject: str  # the title's collection, e.g. "Skönlitteratur för vuxna"
    copies: list[CopyRow]
    branches: dict[str, Branch]
    holds_waiting: int
    # the signed-in visitor's view: where they may pick up, and whether they may reserve
    pickup_branches: list[Branch]
    reachable_copies: int
    own_hold: Hold | None
    own_position: int | None
    estimated_ready: date | None  # for the visitor's hold, or a new one


def title_view(reading: UnitOfWork, clock: Clock, title_id: int, patron_id: int | None):
    """A title with every copy and its status, the queue, and — for a signed-in visitor —
    what their membership lets them reserve, with an estimate of the wait."""
    with reading:
        now = clock.now()
        day = local_date(now)
        consortium = reading.consortium
        title = reading.titles.get(title_id)
        copies = copies_of(reading.session, title_id)
        items = [i for i in reading.items.of_title(title_id) if i.status != ItemStatus.LOST]
        queue = reading.holds.waiting_for_title(title_id)
        patron = reading.patrons.get(patron_id) if patron_id is not None else None
        if patron is not None:
            pickup = consortium.pickup_branches(patron, day)
            reachable = {
                item.id for item in items if consortium.may_fill_hold_of(patron, item, day)
            }
            category = PatronCategory(patron.category)
            own = reading.holds.active_for(patron.id, title_id)
        else:
            # Anyone may look; what counts is what a member may reach today.
            members = consortium.members_on(day)
            pickup, own, category = [], None, PatronCategory.ADULT
            reachable = {
                item.id
                for item in items
                if consortium.branch(item.home_branch_code).municipality_code in members
            }
        if own is not None and own.status == HoldStatus.WAITING:
            position = _position(own, queue)
        elif own is not None:
            position = None  # on its way or ready: no longer in the queue
        else:
            position = len(queue) + 1
        rule = reading.reference.rule(title.media_type, category)
        free_on = _free_dates(
            [c for c in copies if c.item_id in reachable], day, rule.loan_days_when_queued
        )
        shelf_free = any(c.status == ItemStatus.AVAILABLE for c in copies if c.item_id in reachable)
        waits = position is not None and (queue or not shelf_free)
        view = TitleView(
            title=title,
            subject=reading.reference.collection(title.collection_code).name,
            copies=copies,
            branches=consortium.branches,
            holds_waiting=len(queue),
            pickup_branches=sorted(pickup, key=lambda b: b.name),
            reachable_copies=len(reachable),
            own_hold=own,
            own_position=position if own is not None else None,
            estimated_ready=(
                estimated_ready_date(position, free_on, rule.loan_days_when_queued)
                if waits
                else None
            ),
        )
        return _detached(reading, view)


def _position(hold: Hold, queue: list[Hold]) -> int | None:
    for number, waiting in enumerate(queue, start=1):
        if waiting.id == hold.id:
            return number
    return None


def _free_dates(copies: list[CopyRow], day: date, loan_days: int) -> list[date]:
    """When each copy is next free for the queue: now when on the shelf, its due date when
    lent, after one more queued loan when it is already serving someone's hold."""
    dates = []
    for copy in copies:
        if copy.status == ItemStatus.AVAILABLE:
            dates.append(day)
        elif copy.status == ItemStatus.ON_LOAN and copy.due_at is not None:
            dates.append(max(local_date(copy.due_at), day))
        elif copy.status in (ItemStatus.IN_TRANSIT, ItemStatus.ON_HOLD_SHELF):
            dates.append(day + timedelta(days=loan_days))
    return dates


# ------------------------------------------------------------------------------- my page


@dataclass(frozen=True)
class HoldLine:
    hold: Hold
    position: int | None  # in the queue, while waiting


@dataclass(frozen=True)
class MyPage:
    loans: list[Loan]
    holds: list[HoldLine]
    branches: dict[str, Branch]


def my_page(reading: UnitOfWork, patron_id: int) -> MyPage:
    with reading:
        loans = reading.loans.of_patron(patron_id, open_only=True)
        lines = []
        for hold in reading.holds.active_of_patron(patron_id):
            position = None
            if hold.status == HoldStatus.WAITING:
                position = _position(hold, reading.holds.waiting_for_title(hold.title.id))
            lines.append(HoldLine(hold, position))
        page = MyPage(
            loans=sorted(loans, key=lambda loan: (loan.due_at, loan.id)),
            holds=lines,
            branches=reading.consortium.branches,
        )
        return _detached(reading, page)


def renew_own_loan(uow: UnitOfWork, clock: Clock, patron_id: int, loan_id: int) -> Loan:
    """Renew one of the visitor's own loans by the lending rules (services.renew)."""
    with uow:
        loan = uow.loans.get(loan_id)
        if loan.patron.id != patron_id:
            raise errors.NotFound(f"no loan {loan_id!r}")  # others' loans are not there
    return services.renew(uow, clock, loan_id)


def cancel_own_hold(uow: UnitOfWork, clock: Clock, patron_id: int, hold_id: int) -> Hold:
    """Cancel one of the visitor's own holds (services.cancel_hold, reason "patron")."""
    with uow:
        hold = uow.holds.get(hold_id)
        if hold.patron.id != patron_id:
            raise errors.NotFound(f"no hold {hold_id!r}")
    return services.cancel_hold(uow, clock, hold_id, reason="patron")


def place_own_hold(
    uow: UnitOfWork, clock: Clock, patron_id: int, title_id: int, pickup_branch_code: str
) -> Hold:
    """Reserve a title for pick-up at a branch (services.place_hold), refused when no copy
    of it may fill a hold of this patron's today: reserving it would only wait forever."""
    with uow:
        day = local_date(clock.now())
        patron: Patron = uow.patrons.get(patron_id)
        consortium = uow.consortium
        if not any(
            consortium.may_fill_hold_of(patron, item, day)
            for item in uow.items.of_title(title_id)
            if item.status != ItemStatus.LOST
        ):
            raise NothingToReserve(
                f"no copy of title {title_id} may fill a hold for municipality "
                f"{patron.home_municipality_code} on {day}"
            )
        card_number = patron.card_number
    return services.place_hold(uow, clock, card_number, title_id, pickup_branch_code)


# ------------------------------------------------------------------------------ libraries


@dataclass(frozen=True)
class MemberLibraries:
    name: str
    joined_on: date | None
    branches: list[Branch]


def member_libraries(reading: UnitOfWork, clock: Clock) -> list[MemberLibraries]:
    """The municipalities sharing the system today, each with its libraries (main library
    first) and when it joined."""
    with reading:
        day = local_date(clock.now())
        consortium = reading.consortium
        members = consortium.members_on(day)
        result = []
        for municipality in reading.reference.municipalities():
            if municipality.code not in members:
                continue
            joined = [
                m.joined_on
                for m in consortium.memberships
                if m.municipality_code == municipality.code and m.covers(day)
            ]
            branches = [
                b
                for b in consortium.branches.values()
                if b.municipality_code == municipality.code and b.lends
            ]
            order = {BranchKind.MAIN: 0, BranchKind.BRANCH: 1, BranchKind.BOOKBUS: 2}
            branches.sort(key=lambda b: (order.get(b.kind, 3), b.name))
            result.append(MemberLibraries(municipality.name, min(joined, default=None), branches))
        return _detached(reading, sorted(result, key=lambda m: m.name))


def demo_card(reading: UnitOfWork) -> str | None:
    """A card to show the web with: the patron with the most open loans (of those with
    two or more, the first registered), or None when nobody has a loan."""
    with reading:
        return reading.loans.busiest_borrower_card()
