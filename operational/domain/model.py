"""The lending core's entities and the state changes each may go through.

Plain classes with no database or web: the ORM maps them (adapters/orm.py) and the
service layer loads, changes and saves them inside one unit of work. A method that changes
state checks its rule first, raises a domain error when the rule says no, and otherwise
returns the circulation events that record what happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from operational.domain import errors
from operational.domain.events import CirculationEvent, EventType


class BranchKind(StrEnum):
    MAIN = "main"
    BRANCH = "branch"
    BOOKBUS = "bookbus"
    STAFFLESS = "staffless"
    HUB = "hub"  # the county van's sorting point: lends nothing


class PatronCategory(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class Audience(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class MediaType(StrEnum):
    BOOK = "book"
    AUDIOBOOK = "audiobook"
    QUICK_LOAN = "quick_loan"  # "snabblån": popular books lent for two weeks
    FILM = "film"
    MAGAZINE = "magazine"


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    IN_TRANSIT = "in_transit"
    ON_HOLD_SHELF = "on_hold_shelf"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


class HoldStatus(StrEnum):
    WAITING = "waiting"
    IN_TRANSIT = "in_transit"
    READY = "ready"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_HOLD_STATUSES = frozenset({HoldStatus.WAITING, HoldStatus.IN_TRANSIT, HoldStatus.READY})


class TransportReason(StrEnum):
    HOLD = "hold"
    RETURN_HOME = "return_home"
    REBALANCE = "rebalance"


class TransportRoute(StrEnum):
    LOCAL = "local"  # between branches of one municipality
    DIRECT = "direct"  # a direct van route (Nora–Lindesberg)
    HUB = "hub"  # via Örebro's sorting point


class Municipality:
    def __init__(self, code: str, name: str, county_code: str = "18"):
        self.code = code
        self.name = name
        self.county_code = county_code

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"


class Membership:
    """One period during which a municipality shares the system (left_on exclusive)."""

    def __init__(self, municipality_code: str, joined_on: date, left_on: date | None = None):
        self.municipality_code = municipality_code
        self.joined_on = joined_on
        self.left_on = left_on

    def covers(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


class Branch:
    def __init__(
        self,
        code: str,
        name: str,
        municipality_code: str,
        kind: BranchKind,
        staffed_hours_per_week: float = 0,
        staffless_hours_per_week: float = 0,
        open_days: str = "12345",
        latitude: float | None = None,
        longitude: float | None = None,
    ):
        self.code = code
        self.name = name
        self.municipality_code = municipality_code
        self.kind = kind
        self.staffed_hours_per_week = staffed_hours_per_week
        self.staffless_hours_per_week = staffless_hours_per_week
        self.open_days = open_days  # ISO weekdays, "1" = Monday
        self.latitude = latitude
        self.longitude = longitude

    @property
    def lends(self) -> bool:
        return self.kind != BranchKind.HUB

    def is_open_on(self, day: date) -> bool:
        return str(day.isoweekday()) in self.open_days

    def __repr__(self) -> str:
        return f"<Branch {self.code}>"


class Collection:
    """A part of the stock with one floating rule: floating items stay where returned."""

    def __init__(self, code: str, name: str, floats: bool):
        self.code = code
        self.name = name
        self.floats = floats


class CirculationRule:
    """Loan period, renewals and limits for one media type and patron category."""

    def __init__(
        self,
        media_type: MediaType,
        patron_category: PatronCategory,
        loan_days: int,
        loan_days_when_queued: int,
        max_renewals: int,
        max_loans: int,
    ):
        self.media_type = media_type
        self.patron_category = patron_category
        self.loan_days = loan_days
        self.loan_days_when_queued = loan_days_when_queued
        self.max_renewals = max_renewals
        self.max_loans = max_loans

    def loan_period(self, others_waiting: bool) -> timedelta:
        return timedelta(days=self.loan_days_when_queued if others_waiting else self.loan_days)


class Title:
    """A bibliographic record in the shared catalogue."""

    def __init__(
        self,
        title: str,
        author: str | None,
        media_type: MediaType,
        audience: Audience,
        collection_code: str,
        isbn: str | None = None,
        year: int | None = None,
        language: str = "sv",
        added_at: datetime | None = None,
    ):
        self.id: int | None = None
        self.title = title
        self.author = author
        self.media_type = media_type
        self.audience = audience
        self.collection_code = collection_code
        self.isbn = isbn
        self.year = year
        self.language = language
        self.added_at = added_at

    @staticmethod
    def default_collection(media_type: MediaType, audience: Audience, language: str) -> str:
        """The collection a new title goes to when none is given."""
        if media_type == MediaType.FILM:
            return "film"
        if media_type == MediaType.MAGAZINE:
            return "magazines"
        if audience == Audience.CHILD:
            return "children"
        if language != "sv":
            return "languages"
        return "adult-fiction"

    def added(self, now: datetime) -> CirculationEvent:
        return CirculationEvent(
            EventType.TITLE_ADDED,
            now,
            title=self,
            details={
                "media_type": str(self.media_type),
                "audience": str(self.audience),
                "language": self.language,
                "collection_code": self.collection_code,
            },
        )


class Patron:
    """A borrower with one card for every member municipality.

    name, email, phone and birth_date are personal data: they never leave the lending core.
    """

    def __init__(
        self,
        card_number: str,
        home_municipality_code: str,
        home_branch_code: str,
        category: PatronCategory,
        registered_at: datetime,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        birth_date: date | None = None,
    ):
        self.id: int | None = None
        self.card_number = card_number
        self.home_municipality_code = home_municipality_code
        self.home_branch_code = home_branch_code
        self.category = category
        self.registered_at = registered_at
        self.name = name
        self.email = email
        self.phone = phone
        self.birth_date = birth_date

    def registered(self) -> CirculationEvent:
        # Only non-personal attributes go into the feed.
        return CirculationEvent(
            EventType.PATRON_REGISTERED,
            self.registered_at,
            branch_code=self.home_branch_code,
            patron=self,
            details={
                "category": str(self.category),
                "home_municipality_code": self.home_municipality_code,
            },
        )


class Item:
    """A physical copy, owned by its home branch, currently at current_branch_code."""

    def __init__(
        self,
        barcode: str,
        title: Title,
        home_branch_code: str,
        added_at: datetime,
    ):
        self.id: int | None = None
        self.barcode = barcode
        self.title = title
        self.home_branch_code = home_branch_code
        self.current_branch_code = home_branch_code
        self.status = ItemStatus.AVAILABLE
        self.added_at = added_at
        self.withdrawn_at: datetime | None = None

    def __repr__(self) -> str:
        return f"<Item {self.barcode} {self.status} at {self.current_branch_code}>"

    def added(self) -> CirculationEvent:
        return CirculationEvent(
            EventType.ITEM_ADDED, self.added_at, branch_code=self.home_branch_code, item=self
        )

    def withdraw(self, now: datetime) -> CirculationEvent:
        if self.status != ItemStatus.AVAILABLE:
            raise errors.ItemNotAvailable(
                f"item {self.barcode} is {self.status}; only an item on the shelf can be withdrawn"
            )
        self.status = ItemStatus.WITHDRAWN
        self.withdrawn_at = now
        return CirculationEvent(
            EventType.ITEM_WITHDRAWN, now, branch_code=self.current_branch_code, item=self
        )

    def rehome(self, to_branch_code: str, now: datetime) -> CirculationEvent:
        """Give the copy a new home branch (a collection-balancing move): from now on it
        belongs there, is shelved there and is sent back there when returned elsewhere.
        Only a copy on the shelf can be moved; one on loan, in transit or set aside for a
        hold is in use."""
        if self.status != ItemStatus.AVAILABLE:
            raise errors.ItemNotAvailable(
                f"item {self.barcode} is {self.status}; only a copy on the shelf can be moved"
            )
        if to_branch_code == self.home_branch_code:
            raise errors.InvalidRequest(
                f"item {self.barcode} already belongs to branch {to_branch_code}",
                field="to_branch_code",
            )
        previous = self.home_branch_code
        self.home_branch_code = to_branch_code
        return CirculationEvent(
            EventType.ITEM_REHOMED,
            now,
            branch_code=self.current_branch_code,
            item=self,
            from_branch_code=previous,
            to_branch_code=to_branch_code,
            reason=str(TransportReason.REBALANCE),
        )

    def shelve_at(self, branch_code: str) -> None:
        self.current_branch_code = branch_code
        self.status = ItemStatus.AVAILABLE

    def check_out(
        self,
        patron: Patron,
        branch_code: str,
        now: datetime,
        rule: CirculationRule,
        active_loans_of_kind: int,
        others_waiting: bool,
        ready_hold: Hold | None,
    ) -> tuple[Loan, list[CirculationEvent]]:
        """Lend this item to patron at branch_code; ready_hold is the hold it waits for, if any."""
        # Every check comes before any change: a refused checkout changes nothing.
        if self.current_branch_code != branch_code and self.status in (
            ItemStatus.AVAILABLE,
            ItemStatus.ON_HOLD_SHELF,
        ):
            raise errors.ItemNotAvailable(
                f"item {self.barcode} is at branch {self.current_branch_code}, not {branch_code}"
            )
        if self.status == ItemStatus.ON_HOLD_SHELF:
            if ready_hold is None or ready_hold.patron is not patron:
                raise errors.ItemNotAvailable(
                    f"item {self.barcode} is on the hold shelf for another patron"
                )
        elif self.status != ItemStatus.AVAILABLE:
            raise errors.ItemNotAvailable(f"item {self.barcode} is {self.status}")
        if active_loans_of_kind >= rule.max_loans:
            raise errors.LoanLimitReached(
                f"patron already has {active_loans_of_kind} loans of {rule.media_type} "
                f"(limit {rule.max_loans})"
            )
        events: list[CirculationEvent] = []
        if self.status == ItemStatus.ON_HOLD_SHELF:
            events.append(ready_hold.fulfil(now, branch_code))
        loan = Loan(
            item=self,
            patron=patron,
            branch_code=branch_code,
            checked_out_at=now,
            due_at=now + rule.loan_period(others_waiting),
            hold=ready_hold,
        )
        self.status = ItemStatus.ON_LOAN
        events.append(
            CirculationEvent(
                EventType.CHECKOUT,
                now,
                branch_code=branch_code,
                item=self,
                patron=patron,
                loan=loan,
                hold=ready_hold,
                due_at=loan.due_at,
            )
        )
        return loan, events


class Loan:
    def __init__(
        self,
        item: Item,
        patron: Patron,
        branch_code: str,
        checked_out_at: datetime,
        due_at: datetime,
        hold: Hold | None = None,
    ):
        self.id: int | None = None
        self.item = item
        self.patron = patron
        self.branch_code = branch_code
        self.checked_out_at = checked_out_at
        self.due_at = due_at
        self.renewals = 0
        self.returned_at: datetime | None = None
        self.return_branch_code: str | None = None
        self.hold = hold

    @property
    def is_active(self) -> bool:
        return self.returned_at is None

    def renew(self, now: datetime, rule: CirculationRule, others_waiting: bool) -> CirculationEvent:
        if not self.is_active:
            raise errors.NotRenewable(f"loan {self.id} was returned", reason="returned")
        if self.renewals >= rule.max_renewals:
            raise errors.NotRenewable(
                f"loan {self.id} has been renewed {self.renewals} times "
                f"(limit {rule.max_renewals})",
                reason="renewal_limit",
            )
        if others_waiting:
            raise errors.NotRenewable(
                f"other patrons are waiting for '{self.item.title.title}'", reason="others_waiting"
            )
        self.renewals += 1
        # A renewal lends the item for a full period counted from today.
        self.due_at = now + rule.loan_period(others_waiting=False)
        return CirculationEvent(
            EventType.RENEW,
            now,
            branch_code=self.branch_code,
            item=self.item,
            patron=self.patron,
            loan=self,
            due_at=self.due_at,
            details={"renewals": self.renewals},
        )

    def close(self, branch_code: str, now: datetime) -> CirculationEvent:
        if not self.is_active:
            raise errors.ItemNotOnLoan(f"loan {self.id} was already returned")
        self.returned_at = now
        self.return_branch_code = branch_code
        return CirculationEvent(
            EventType.CHECKIN,
            now,
            branch_code=branch_code,
            item=self.item,
            patron=self.patron,
            loan=self,
            details={"overdue": now > self.due_at},
        )


class Hold:
    """A patron's reservation of a title, to be picked up at pickup_branch_code."""

    def __init__(self, title: Title, patron: Patron, pickup_branch_code: str, placed_at: datetime):
        self.id: int | None = None
        self.title = title
        self.patron = patron
        self.pickup_branch_code = pickup_branch_code
        self.placed_at = placed_at
        self.status = HoldStatus.WAITING
        self.item: Item | None = None
        self.trapped_at: datetime | None = None
        self.ready_at: datetime | None = None
        self.expires_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.cancel_reason: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_HOLD_STATUSES

    @classmethod
    def place(
        cls,
        title: Title,
        patron: Patron,
        pickup_branch_code: str,
        now: datetime,
        active_on_title: Hold | None,
    ) -> Hold:
        """A new hold; a patron has at most one active hold per title, so none while
        active_on_title (the patron's active hold on it, if any) is there."""
        if active_on_title is not None:
            raise errors.DuplicateHold(f"patron already has an active hold on title {title.id}")
        return cls(title, patron, pickup_branch_code, now)

    def placed(self) -> CirculationEvent:
        return CirculationEvent(
            EventType.HOLD_PLACED,
            self.placed_at,
            branch_code=self.pickup_branch_code,
            title=self.title,
            patron=self.patron,
            hold=self,
        )

    def _event(self, kind: EventType, now: datetime, **fields) -> CirculationEvent:
        return CirculationEvent(
            kind, now, title=self.title, patron=self.patron, hold=self, item=self.item, **fields
        )

    def trap(self, item: Item, branch_code: str, now: datetime) -> CirculationEvent:
        """Reserve item for this hold where it now is (branch_code)."""
        if self.status != HoldStatus.WAITING:
            raise errors.HoldNotActive(f"hold {self.id} is {self.status}, not waiting")
        self.item = item
        self.trapped_at = now
        return self._event(EventType.HOLD_TRAPPED, now, branch_code=branch_code)

    def set_in_transit(self) -> None:
        self.status = HoldStatus.IN_TRANSIT

    def make_ready(self, now: datetime, pickup_window: timedelta) -> CirculationEvent:
        if self.item is None or self.status not in (HoldStatus.WAITING, HoldStatus.IN_TRANSIT):
            raise errors.HoldNotActive(f"hold {self.id} is {self.status}; it cannot become ready")
        self.status = HoldStatus.READY
        self.ready_at = now
        self.expires_at = now + pickup_window
        self.item.current_branch_code = self.pickup_branch_code
        self.item.status = ItemStatus.ON_HOLD_SHELF
        return self._event(
            EventType.HOLD_READY,
            now,
            branch_code=self.pickup_branch_code,
            details={"expires_at": self.expires_at.isoformat()},
        )

    def fulfil(self, now: datetime, branch_code: str) -> CirculationEvent:
        self.status = HoldStatus.FULFILLED
        self.closed_at = now
        return self._event(EventType.HOLD_FULFILLED, now, branch_code=branch_code)

    def cancel(self, now: datetime, reason: str) -> CirculationEvent:
        if not self.is_active:
            raise errors.HoldNotActive(f"hold {self.id} is already {self.status}")
        self.status = HoldStatus.CANCELLED
        self.closed_at = now
        self.cancel_reason = reason
        return self._event(
            EventType.HOLD_CANCELLED, now, branch_code=self.pickup_branch_code, reason=reason
        )

    def expire(self, now: datetime) -> CirculationEvent:
        if self.status != HoldStatus.READY:
            raise errors.HoldNotActive(f"hold {self.id} is {self.status}; only ready holds expire")
        self.status = HoldStatus.EXPIRED
        self.closed_at = now
        return self._event(EventType.HOLD_EXPIRED, now, branch_code=self.pickup_branch_code)

    def requeue(self, now: datetime, reason: str) -> CirculationEvent:
        """Put an in-transit hold back in the queue when its item is lost on the way."""
        event = self._event(
            EventType.HOLD_REQUEUED, now, branch_code=self.pickup_branch_code, reason=reason
        )
        self.status = HoldStatus.WAITING
        self.item = None
        self.trapped_at = None
        return event


class Transport:
    """An item moving between branches with the county van (or a direct route)."""

    def __init__(
        self,
        item: Item,
        from_branch_code: str,
        to_branch_code: str,
        reason: TransportReason,
        route: TransportRoute,
        requested_at: datetime,
        hold: Hold | None = None,
    ):
        self.id: int | None = None
        self.item = item
        self.from_branch_code = from_branch_code
        self.to_branch_code = to_branch_code
        self.reason = reason
        self.route = route
        self.requested_at = requested_at
        self.hold = hold
        self.dispatched_at: datetime | None = None
        self.received_at: datetime | None = None
        self.lost_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.received_at is None and self.lost_at is None

    @property
    def hold_to_fill(self) -> Hold | None:
        """The hold this copy travels to fill, while that hold still waits for it (one
        cancelled or requeued meanwhile does not: the copy is then routed as if returned
        at the destination)."""
        hold = self.hold
        if hold is not None and hold.status == HoldStatus.IN_TRANSIT and hold.item is self.item:
            return hold
        return None

    def _event(self, kind: EventType, now: datetime, branch_code: str) -> CirculationEvent:
        return CirculationEvent(
            kind,
            now,
            branch_code=branch_code,
            item=self.item,
            hold=self.hold,
            transport=self,
            from_branch_code=self.from_branch_code,
            to_branch_code=self.to_branch_code,
            reason=str(self.reason),
            details={"route": str(self.route)},
        )

    @classmethod
    def request(
        cls,
        item: Item,
        to_branch_code: str,
        reason: TransportReason,
        route: TransportRoute,
        now: datetime,
        hold: Hold | None = None,
    ) -> tuple[Transport, CirculationEvent]:
        if item.status in (ItemStatus.ON_LOAN, ItemStatus.LOST, ItemStatus.WITHDRAWN):
            raise errors.ItemNotAvailable(f"item {item.barcode} is {item.status}")
        transport = cls(item, item.current_branch_code, to_branch_code, reason, route, now, hold)
        item.status = ItemStatus.IN_TRANSIT
        return transport, transport._event(
            EventType.TRANSPORT_REQUESTED, now, transport.from_branch_code
        )

    def dispatch(self, now: datetime) -> CirculationEvent:
        if self.dispatched_at is not None or not self.is_open:
            raise errors.TransportStateError(f"transport {self.id} was already dispatched")
        self.dispatched_at = now
        return self._event(EventType.TRANSPORT_DISPATCHED, now, self.from_branch_code)

    def receive(self, now: datetime) -> CirculationEvent:
        if not self.is_open:
            raise errors.TransportStateError(f"transport {self.id} is closed")
        if self.dispatched_at is None:
            raise errors.TransportStateError(f"transport {self.id} has not been dispatched")
        self.received_at = now
        self.item.current_branch_code = self.to_branch_code
        self.item.status = ItemStatus.AVAILABLE  # until the arrival is routed
        return self._event(EventType.TRANSPORT_RECEIVED, now, self.to_branch_code)

    def mark_lost(self, now: datetime) -> CirculationEvent:
        if not self.is_open or self.dispatched_at is None:
            raise errors.TransportStateError(f"transport {self.id} is not on the way")
        self.lost_at = now
        self.item.status = ItemStatus.LOST
        return self._event(EventType.TRANSPORT_LOST, now, self.from_branch_code)
