"""The lending core's use cases. Each runs in one unit of work: load and lock, ask the domain
(operational.domain: the entities, and the consortium's sharing rules in rules.py), record
the events, commit. The rules themselves are not written here. Entrypoints (HTTP, CLI, the
simulator) only call these.

Locking order, to stay free of deadlocks under concurrent writers: the title first (every
use case that touches a title's copies or hold queue locks it; checkouts and returns, which
only read the queue, share that lock), then the item, then the patron or a hold, then the
feed counter at commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from operational.clock import Clock, local_date
from operational.domain import errors
from operational.domain.events import CirculationEvent, EventType
from operational.domain.model import (
    Audience,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Loan,
    MediaType,
    Membership,
    Patron,
    PatronCategory,
    Title,
    Transport,
    TransportReason,
)
from operational.domain.rules import LOST_IN_TRANSIT_AFTER, PICKUP_WINDOW, Arrival, ReturnAction
from operational.service_layer.ports import UnitOfWork

__all__ = ["ArrivalOutcome", "ReturnAction"]  # ReturnAction: the domain's, named here too


@dataclass(frozen=True)
class ArrivalOutcome:
    """What happened to an item that arrived at a branch (returned, received, released)."""

    action: ReturnAction
    transport: Transport | None = None
    hold: Hold | None = None


# ---------------------------------------------------------------- registration & catalogue


def register_patron(
    uow: UnitOfWork,
    clock: Clock,
    card_number: str,
    home_municipality_code: str,
    category: PatronCategory,
    home_branch_code: str | None = None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    birth_date: date | None = None,
) -> Patron:
    with uow:
        if uow.reference.municipality(home_municipality_code) is None:
            raise errors.InvalidRequest(
                f"unknown municipality code {home_municipality_code!r}",
                field="home_municipality_code",
            )
        branch = uow.consortium.home_branch(home_municipality_code, home_branch_code)
        if uow.patrons.card_taken(card_number):
            raise errors.AlreadyExists(f"card number {card_number!r} is already registered")
        patron = Patron(
            card_number=card_number,
            home_municipality_code=home_municipality_code,
            home_branch_code=branch.code,
            category=category,
            registered_at=clock.now(),
            name=name,
            email=email,
            phone=phone,
            birth_date=birth_date,
        )
        uow.patrons.add(patron)
        uow.record(patron.registered())
        uow.commit()
        return patron


def add_title(
    uow: UnitOfWork,
    clock: Clock,
    title: str,
    author: str | None,
    media_type: MediaType,
    audience: Audience,
    isbn: str | None = None,
    year: int | None = None,
    language: str = "sv",
    collection_code: str | None = None,
) -> Title:
    with uow:
        code = collection_code or Title.default_collection(media_type, audience, language)
        try:
            uow.reference.collection(code)
        except errors.NotFound:
            raise errors.InvalidRequest(
                f"unknown collection {code!r}", field="collection_code"
            ) from None
        record = Title(
            title=title,
            author=author,
            media_type=media_type,
            audience=audience,
            collection_code=code,
            isbn=isbn,
            year=year,
            language=language,
            added_at=clock.now(),
        )
        uow.titles.add(record)
        uow.record(record.added(clock.now()))
        uow.commit()
        return record


def add_item(
    uow: UnitOfWork, clock: Clock, barcode: str, title_id: int, home_branch_code: str
) -> Item:
    with uow:
        uow.consortium.lending_branch(home_branch_code, field="home_branch_code")
        title = uow.titles.lock(uow.titles.get(title_id).id)
        if uow.items.barcode_taken(barcode):
            raise errors.AlreadyExists(f"barcode {barcode!r} is already in use")
        item = Item(barcode, title, home_branch_code, added_at=clock.now())
        uow.items.add(item)
        uow.record(item.added())
        uow.commit()
        return item


def withdraw_item(uow: UnitOfWork, clock: Clock, barcode: str) -> Item:
    with uow:
        item = _lock_item(uow, barcode)
        uow.record(item.withdraw(clock.now()))
        uow.commit()
        return item


def _lock_item(uow: UnitOfWork, barcode: str, *, title_shared: bool = False) -> Item:
    item = uow.items.by_barcode(barcode)
    uow.titles.lock(item.title.id, shared=title_shared)
    return uow.items.lock(item.id)


# ---------------------------------------------------------------- circulation


def checkout(
    uow: UnitOfWork, clock: Clock, card_number: str, item_barcode: str, branch_code: str
) -> Loan:
    """Lend an item at a branch. Refused when the patron's municipality does not share with
    the branch's or the item's on that date (NotPermitted), or the item is not free for
    this patron here (Conflict)."""
    with uow:
        now = clock.now()
        day = local_date(now)
        consortium = uow.consortium
        branch = consortium.lending_branch(branch_code)
        patron = uow.patrons.by_card(card_number)
        consortium.check_patron_may_use(patron, branch, day)
        item = _lock_item(uow, item_barcode, title_shared=True)
        uow.patrons.lock(patron.id)
        consortium.check_patron_may_borrow(patron, item, day)
        title = item.title
        rule = uow.reference.rule(title.media_type, patron.category)
        ready_hold = (
            uow.holds.ready_for_item(item.id) if item.status == ItemStatus.ON_HOLD_SHELF else None
        )
        waiting = uow.holds.waiting_for_title(title.id)
        others_waiting = bool(waiting) and any(h.patron is not patron for h in waiting)
        loan, events = item.check_out(
            patron,
            branch_code,
            now,
            rule,
            active_loans_of_kind=uow.loans.count_open(patron.id, title.media_type),
            others_waiting=others_waiting,
            ready_hold=ready_hold,
        )
        uow.loans.add(loan)
        uow.record(events)
        uow.commit()
        return loan


def renew(uow: UnitOfWork, clock: Clock, loan_id: int) -> Loan:
    with uow:
        loan = uow.loans.get(loan_id)
        uow.titles.lock(loan.item.title.id)
        uow.refresh(loan)
        rule = uow.reference.rule(loan.item.title.media_type, loan.patron.category)
        waiting = uow.holds.waiting_for_title(loan.item.title.id)
        others_waiting = bool(waiting) and any(h.patron is not loan.patron for h in waiting)
        uow.record(loan.renew(clock.now(), rule, others_waiting))
        uow.commit()
        return loan


def checkin(uow: UnitOfWork, clock: Clock, item_barcode: str, branch_code: str) -> ArrivalOutcome:
    """Return an item at any branch that shares with its owner: it is trapped for the
    oldest hold it can fill, shelved (at home, or anywhere when its collection floats), or
    sent home."""
    with uow:
        now = clock.now()
        day = local_date(now)
        consortium = uow.consortium
        branch = consortium.lending_branch(branch_code)
        item = _lock_item(uow, item_barcode, title_shared=True)
        loan = uow.loans.open_for_item(item.id)
        if loan is None:
            raise errors.ItemNotOnLoan(f"item {item_barcode} is {item.status}, not on loan")
        consortium.check_may_return_at(item, branch, day)
        uow.record(loan.close(branch_code, now))
        item.shelve_at(branch_code)
        outcome = _route_arrival(uow, item, branch_code, now)
        uow.commit()
        return outcome


def _route_arrival(uow: UnitOfWork, item: Item, branch_code: str, now: datetime) -> ArrivalOutcome:
    """Send an item that is now free at branch_code where the domain says it goes next."""
    arrival = _claim_arrival(uow, item, branch_code, now)
    if arrival.action is ReturnAction.HOLD_TRAPPED:
        transport = _fill_hold(uow, arrival.hold, item, now)
        return ArrivalOutcome(ReturnAction.HOLD_TRAPPED, transport=transport, hold=arrival.hold)
    if arrival.action is ReturnAction.SHELVED:
        return ArrivalOutcome(ReturnAction.SHELVED)
    transport, event = Transport.request(
        item, item.home_branch_code, TransportReason.RETURN_HOME, arrival.route, now
    )
    uow.transports.add(transport)
    uow.record(event)
    return ArrivalOutcome(ReturnAction.TRANSPORT, transport=transport)


def _claim_arrival(uow: UnitOfWork, item: Item, branch_code: str, now: datetime) -> Arrival:
    """The domain's arrival decision, with the hold it fills locked. Returns share the
    title's lock, so a copy of the same title returned meanwhile may have taken the hold
    chosen first: then the queue is read again."""
    collection = uow.reference.collection(item.title.collection_code)
    while True:
        waiting = uow.holds.waiting_for_title(item.title.id)
        arrival = uow.consortium.arrival(item, branch_code, waiting, collection, local_date(now))
        if arrival.hold is None or uow.holds.lock(arrival.hold.id).status == HoldStatus.WAITING:
            return arrival


def _fill_hold(uow: UnitOfWork, hold: Hold, item: Item, now: datetime) -> Transport | None:
    """Trap item for hold: ready at once when it is at the pickup branch, else sent there."""
    uow.record(hold.trap(item, item.current_branch_code, now))
    if item.current_branch_code == hold.pickup_branch_code:
        uow.record(hold.make_ready(now, PICKUP_WINDOW))
        return None
    transport, event = Transport.request(
        item,
        hold.pickup_branch_code,
        TransportReason.HOLD,
        uow.consortium.route(item.current_branch_code, hold.pickup_branch_code),
        now,
        hold=hold,
    )
    hold.set_in_transit()
    uow.transports.add(transport)
    uow.record(event)
    return transport


def _target(uow: UnitOfWork, hold: Hold, now: datetime) -> Transport | None:
    """Fill a waiting hold from the cheapest available copy it may have, if any."""
    item = uow.consortium.choose_copy(
        hold, uow.items.available_copies(hold.title.id), local_date(now)
    )
    if item is None:
        return None
    return _fill_hold(uow, hold, item, now)


# ---------------------------------------------------------------- holds


def place_hold(
    uow: UnitOfWork, clock: Clock, card_number: str, title_id: int, pickup_branch_code: str
) -> Hold:
    with uow:
        now = clock.now()
        pickup = uow.consortium.lending_branch(pickup_branch_code, field="pickup_branch_code")
        patron = uow.patrons.by_card(card_number)
        uow.consortium.check_patron_may_use(patron, pickup, local_date(now))
        title = uow.titles.lock(uow.titles.get(title_id).id)
        active = uow.holds.active_for(patron.id, title.id)
        hold = Hold.place(title, patron, pickup_branch_code, now, active)
        uow.holds.add(hold)
        uow.record(hold.placed())
        _target(uow, hold, now)
        uow.commit()
        return hold


def cancel_hold(uow: UnitOfWork, clock: Clock, hold_id: int, reason: str = "patron") -> Hold:
    """Cancel a hold. A copy waiting on the hold shelf goes to the next hold or home; one
    on its way is dealt with when it arrives."""
    with uow:
        now = clock.now()
        hold = uow.holds.get(hold_id)
        uow.titles.lock(hold.title.id)
        uow.refresh(hold)
        was_ready = hold.status == HoldStatus.READY
        uow.record(hold.cancel(now, reason))
        if was_ready and hold.item is not None:
            _release_from_hold_shelf(uow, hold, now)
        uow.commit()
        return hold


def _release_from_hold_shelf(uow: UnitOfWork, hold: Hold, now: datetime) -> None:
    item = hold.item
    item.shelve_at(hold.pickup_branch_code)
    _route_arrival(uow, item, hold.pickup_branch_code, now)


def expire_holds(uow: UnitOfWork, clock: Clock) -> int:
    """Expire every ready hold not picked up within the pickup window."""
    with uow:
        now = clock.now()
        expired = 0
        for hold in uow.holds.ready_expiring(now):
            uow.titles.lock(hold.title.id)
            uow.refresh(hold)
            if hold.status != HoldStatus.READY:
                continue
            uow.record(hold.expire(now))
            _release_from_hold_shelf(uow, hold, now)
            expired += 1
        uow.commit()
        return expired


# ---------------------------------------------------------------- transports


def dispatch_transport(uow: UnitOfWork, clock: Clock, transport_id: int) -> Transport:
    with uow:
        transport = uow.transports.get(transport_id)
        uow.titles.lock(transport.item.title.id)
        uow.refresh(transport)
        uow.record(transport.dispatch(clock.now()))
        uow.commit()
        return transport


def receive_transport(uow: UnitOfWork, clock: Clock, transport_id: int) -> ArrivalOutcome:
    """Receive an item at the transport's destination: a copy for a live hold goes on the
    hold shelf; anything else is routed as if returned there."""
    with uow:
        now = clock.now()
        transport = uow.transports.get(transport_id)
        uow.titles.lock(transport.item.title.id)
        uow.refresh(transport)
        uow.record(transport.receive(now))
        hold = transport.hold_to_fill
        if hold is not None:
            uow.record(hold.make_ready(now, PICKUP_WINDOW))
            outcome = ArrivalOutcome(ReturnAction.HOLD_TRAPPED, hold=hold)
        else:
            outcome = _route_arrival(uow, transport.item, transport.to_branch_code, now)
        uow.commit()
        return outcome


def mark_lost_transports(uow: UnitOfWork, clock: Clock) -> int:
    """Mark transports not received within 30 days of dispatch as lost; a hold they were
    serving goes back to the queue and is filled from another copy if one is free."""
    with uow:
        now = clock.now()
        lost = 0
        for transport in uow.transports.overdue(now - LOST_IN_TRANSIT_AFTER):
            uow.titles.lock(transport.item.title.id)
            uow.refresh(transport)
            if not transport.is_open:
                continue
            uow.record(transport.mark_lost(now))
            lost += 1
            hold = transport.hold
            if hold is not None and hold.status == HoldStatus.IN_TRANSIT:
                uow.record(hold.requeue(now, "transport_lost"))
                _target(uow, hold, now)
        uow.commit()
        return lost


# ---------------------------------------------------------------- collection balancing


def move_copy(
    uow: UnitOfWork, clock: Clock, item_barcode: str, to_branch_code: str
) -> ArrivalOutcome:
    """Move a copy on the shelf to another branch for good (collection balancing, e.g.
    the warehouse's mart_collection_advice): its home branch becomes to_branch_code
    (item_rehomed) and it is then routed as an item free away from home, by the arrival
    rule: to the oldest waiting hold it may fill, or by van to its new home (transport
    reason rebalance). On arrival there it is shelved, or trapped for a hold."""
    with uow:
        now = clock.now()
        to_branch = uow.consortium.lending_branch(to_branch_code, field="to_branch_code")
        item = _lock_item(uow, item_barcode)
        uow.consortium.check_may_move(item, to_branch, local_date(now))
        uow.record(item.rehome(to_branch.code, now))
        arrival = _claim_arrival(uow, item, item.current_branch_code, now)
        if arrival.action is ReturnAction.HOLD_TRAPPED:
            transport = _fill_hold(uow, arrival.hold, item, now)
            outcome = ArrivalOutcome(
                ReturnAction.HOLD_TRAPPED, transport=transport, hold=arrival.hold
            )
        elif item.current_branch_code == to_branch.code:
            outcome = ArrivalOutcome(ReturnAction.SHELVED)  # already standing there
        else:
            transport, event = Transport.request(
                item,
                to_branch.code,
                TransportReason.REBALANCE,
                uow.consortium.route(item.current_branch_code, to_branch.code),
                now,
            )
            uow.transports.add(transport)
            uow.record(event)
            outcome = ArrivalOutcome(ReturnAction.TRANSPORT, transport=transport)
        uow.commit()
        return outcome


# ---------------------------------------------------------------- membership


def change_membership(
    uow: UnitOfWork,
    clock: Clock,
    municipality_code: str,
    joined_on: date,
    left_on: date | None = None,
) -> Membership:
    """Record that a municipality joins (or leaves) the shared system from a date."""
    with uow:
        if uow.reference.municipality(municipality_code) is None:
            raise errors.InvalidRequest(
                f"unknown municipality code {municipality_code!r}", field="municipality_code"
            )
        if left_on is not None and left_on <= joined_on:
            raise errors.InvalidRequest("left_on must be after joined_on", field="left_on")
        current = uow.reference.memberships_of(municipality_code)
        membership = next((m for m in current if m.joined_on == joined_on), None)
        if membership is None:
            membership = Membership(municipality_code, joined_on, left_on)
            uow.reference.add(membership)
        else:
            membership.left_on = left_on
        uow.record(
            CirculationEvent(
                EventType.MEMBERSHIP_CHANGED,
                clock.now(),
                details={
                    "municipality_code": municipality_code,
                    "joined_on": joined_on.isoformat(),
                    "left_on": left_on.isoformat() if left_on else None,
                },
            )
        )
        uow.commit()
        return membership
