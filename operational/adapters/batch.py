"""A unit of work for bulk writers (the simulator): the same use cases and domain rules,
with the lending core's state held in memory and written once per batch.

The simulator runs thousands of use cases per simulated day. Running each in its own
database transaction through the ORM would make persistence, not the rules, the cost. Here
the repositories answer from memory (every object the rules may need is loaded once), each
use case's `commit()` only accepts its events, and `flush()` hands the batch — new rows,
changed rows, and the events in feed order — to a writer (adapters/batch_writer.py) that
writes it in one transaction with executemany, in this process or in one beside it.

This is only correct while nothing else writes to the database: the writer checks that the
feed counter is where this store left it and refuses otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import compress, count
from operator import attrgetter, is_not, itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select

from operational.adapters import tables
from operational.adapters.batch_writer import BackgroundWriter, Batch, DirectWriter
from operational.adapters.feed import FEED, event_row
from operational.adapters.repository import found_or_raise
from operational.domain import errors
from operational.domain.events import CirculationEvent, EventType
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

# Entity class → table, in the order rows must be inserted (foreign keys point backwards).
ENTITY_TABLES: list[tuple[type, Table]] = [
    (Title, tables.title),
    (Item, tables.item),
    (Patron, tables.patron),
    (Hold, tables.hold),
    (Loan, tables.loan),
    (Transport, tables.transport),
]
TABLE_OF = {cls: table for cls, table in ENTITY_TABLES}
# Foreign-key columns filled from the entity an attribute refers to (item_id ← item.id).
_REFERENCES = {"title_id": "title", "item_id": "item", "patron_id": "patron", "hold_id": "hold"}


# Attributes each entity class refers to other entities by.
_ATTRIBUTES = {
    Title: set(),
    Item: {"title"},
    Patron: set(),
    Hold: {"title", "patron", "item"},
    Loan: {"item", "patron", "hold"},
    Transport: {"item", "hold"},
}


def _row_function(cls: type, table: Table) -> Callable[[Any], tuple]:
    """A function returning an entity's values in its table's column order, written out
    as one expression (this runs for every new or changed entity of every batch)."""
    parts = []
    for column in table.columns:
        reference = _REFERENCES.get(column.name)
        if reference is not None and reference in _ATTRIBUTES[cls]:
            parts.append(f"(None if e.{reference} is None else e.{reference}.id)")
        else:
            parts.append(f"e.{column.name}")
    return eval(f"lambda e: ({', '.join(parts)},)")


_ROWS = {cls: _row_function(cls, table) for cls, table in ENTITY_TABLES}


def entity_row(entity: Any) -> tuple:
    """The entity's values in its table's column order."""
    return _ROWS[type(entity)](entity)


def _changed_columns(row: tuple, before: tuple) -> tuple[int, ...]:
    """The indexes of the columns whose values differ (values that are the very same
    object are not looked at: most of a changed row's are)."""
    return tuple(i for i in compress(count(), map(is_not, row, before)) if row[i] != before[i])


def _claims_item(table: Table) -> Callable[[tuple], int]:
    """Sort key that puts hold updates releasing an item before those that take one, so
    the unique index on an item's live hold holds after every single row."""
    if table is not tables.hold:
        return lambda row: 0
    status = [column.name for column in table.columns].index("status")
    live = {HoldStatus.IN_TRANSIT, HoldStatus.READY}
    return lambda row: 1 if row[status] in live else 0


def _update_groups(
    table: Table, groups: dict[tuple[int, ...], list[tuple]]
) -> list[tuple[tuple[int, ...], list[tuple]]]:
    """A table's changed rows, one UPDATE per group of changed columns; holds that
    release an item are written before those that take one, so the unique index on an
    item's live hold holds after every single statement."""
    if table is not tables.hold:
        return list(groups.items())
    claims = _claims_item(table)
    ordered = []
    for taking in (0, 1):
        for columns, rows in groups.items():
            part = [row for row in rows if claims(row) == taking]
            if part:
                ordered.append((columns, part))
    return ordered


def _new(cls: type, **attributes: Any) -> Any:
    """Rebuild an entity from stored values without running its constructor's rules (the
    class may also be ORM-instrumented in this process, so attributes are set normally)."""
    entity = cls.__new__(cls)
    manager = getattr(cls, "_sa_class_manager", None)
    if manager is not None:
        entity = manager.new_instance()
    for name, value in attributes.items():
        setattr(entity, name, value)
    entity._stored_row = None
    return entity


class MemoryState:
    """Everything the use cases may read or change, loaded from the database once.

    Closed loans, holds and transports are history the rules never read again; they are
    dropped after each flush, which keeps memory flat however long the simulation runs.
    """

    def __init__(self, engine: Engine, writer: DirectWriter | BackgroundWriter | None = None):
        self.engine = engine
        self.writer = writer if writer is not None else DirectWriter(engine)
        self.dialect = engine.dialect
        with engine.connect() as c:
            self._load_reference(c)
            self._load_entities(c)
            self.feed_last_id = c.execute(
                select(tables.feed_counter.c.last_id).where(tables.feed_counter.c.name == FEED)
            ).scalar_one()
        self.new: dict[type, list] = defaultdict(list)
        self.touched: set[Any] = set()
        self.events: list[CirculationEvent] = []
        # The committed events' rows (feed.event_row), made when each use case commits,
        # while the entities they name are still in the processor's caches: at the end
        # of the day they would all have to be read back from memory.
        self.event_rows: list[tuple] = []
        self._begin_batch()

    # -- loading

    def _load_reference(self, c: Connection) -> None:
        self.municipalities = {
            r.code: Municipality(r.code, r.name, r.county_code)
            for r in c.execute(select(tables.municipality))
        }
        self.memberships = [
            Membership(r.municipality_code, r.joined_on, r.left_on)
            for r in c.execute(select(tables.membership).order_by(tables.membership.c.id))
        ]
        self.branches = {
            r.code: Branch(
                r.code,
                r.name,
                r.municipality_code,
                r.kind,
                r.staffed_hours_per_week,
                r.staffless_hours_per_week,
                r.open_days,
                r.latitude,
                r.longitude,
            )
            for r in c.execute(select(tables.branch).order_by(tables.branch.c.code))
        }
        self.collections = {
            r.code: Collection(r.code, r.name, r.floats)
            for r in c.execute(select(tables.collection))
        }
        self.rules = {
            (r.media_type, r.patron_category): CirculationRule(
                r.media_type,
                r.patron_category,
                r.loan_days,
                r.loan_days_when_queued,
                r.max_renewals,
                r.max_loans,
            )
            for r in c.execute(select(tables.circulation_rule))
        }
        routes = c.execute(select(tables.van_route)).all()
        self.consortium = Consortium.from_reference(
            self.memberships, self.branches.values(), routes
        )

    def _rows(self, c: Connection, table: Table, *where) -> Iterable:
        return c.execute(select(table).where(*where).order_by(table.c.id))

    def _load_entities(self, c: Connection) -> None:
        # Each entity carries the row stored for it (`_stored_row`, to detect its
        # changes; None while it is new, or for one never to be written), as the ORM
        # keeps its state on the objects it maps.
        self.titles: dict[int, Title] = {}
        for r in self._rows(c, tables.title):
            self._keep(_new(Title, **r._mapping))
        self.items: dict[int, Item] = {}
        self.items_by_barcode: dict[str, Item] = {}
        self.items_by_title: dict[int, list[Item]] = defaultdict(list)
        for r in self._rows(c, tables.item):
            values = dict(r._mapping)
            values["title"] = self.titles[values.pop("title_id")]
            self._keep(_new(Item, **values))
        self.patrons: dict[int, Patron] = {}
        self.patrons_by_card: dict[str, Patron] = {}
        for r in self._rows(c, tables.patron):
            self._keep(_new(Patron, **r._mapping))
        self.holds: dict[int, Hold] = {}
        # A title's active holds in the order placed (a dict as an ordered set: a popular
        # title's queue is long, and a closed hold leaves it without a search).
        self.holds_by_title: dict[int, dict[Hold, None]] = defaultdict(dict)
        # The latest hold of each (patron id, title id): a patron has at most one active
        # hold per title, so if that one is not active, none is.
        self.latest_hold: dict[tuple[int, int], Hold] = {}
        active = [str(s) for s in ACTIVE_HOLD_STATUSES]
        for r in self._rows(c, tables.hold, tables.hold.c.status.in_(active)):
            values = dict(r._mapping)
            values["title"] = self.titles[values.pop("title_id")]
            values["patron"] = self.patrons[values.pop("patron_id")]
            item_id = values.pop("item_id")
            values["item"] = self.items[item_id] if item_id is not None else None
            self._keep(_new(Hold, **values))
        self.loans: dict[int, Loan] = {}
        self.open_loan_by_item: dict[int, Loan] = {}
        # A patron's loans (open, or closed in this batch) by patron and media type: the
        # loan limit is per media type, and counting a patron's loans of one type should
        # not visit each loan's title.
        self.loans_by_patron_media: dict[tuple[int, MediaType], list[Loan]] = defaultdict(list)
        for r in self._rows(c, tables.loan, tables.loan.c.returned_at.is_(None)):
            values = dict(r._mapping)
            values["item"] = self.items[values.pop("item_id")]
            values["patron"] = self.patrons[values.pop("patron_id")]
            values["hold"] = self._closed_hold(c, values.pop("hold_id"))
            self._keep(_new(Loan, **values))
        self.transports: dict[int, Transport] = {}
        open_transport = tables.transport.c.received_at.is_(None) & tables.transport.c.lost_at.is_(
            None
        )
        for r in self._rows(c, tables.transport, open_transport):
            values = dict(r._mapping)
            values["item"] = self.items[values.pop("item_id")]
            hold_id = values.pop("hold_id")
            values["hold"] = self.holds.get(hold_id) or self._closed_hold(c, hold_id)
            self._keep(_new(Transport, **values))
        self.next_id = {
            cls: (c.execute(select(func.max(table.c.id))).scalar_one() or 0) + 1
            for cls, table in ENTITY_TABLES
        }

    def _closed_hold(self, c: Connection, hold_id: int | None) -> Hold | None:
        """A hold that is no longer active but is still referred to (by an open loan or
        transport): loaded for its id only, never changed."""
        if hold_id is None:
            return None
        if hold_id in self.holds:
            return self.holds[hold_id]
        r = c.execute(select(tables.hold).where(tables.hold.c.id == hold_id)).one()
        values = dict(r._mapping)
        values["title"] = self.titles[values.pop("title_id")]
        values["patron"] = self.patrons[values.pop("patron_id")]
        item_id = values.pop("item_id")
        values["item"] = self.items.get(item_id) if item_id is not None else None
        return _new(Hold, **values)

    def _keep(self, entity: Any, saved: bool = True) -> None:
        """Index an entity; `saved` ones remember their stored row to detect changes."""
        cls = type(entity)
        entity._stored_row = _ROWS[cls](entity) if saved else None
        if cls is Title:
            self.titles[entity.id] = entity
        elif cls is Item:
            self.items[entity.id] = entity
            self.items_by_barcode[entity.barcode] = entity
            self.items_by_title[entity.title.id].append(entity)
        elif cls is Patron:
            self.patrons[entity.id] = entity
            self.patrons_by_card[entity.card_number] = entity
        elif cls is Hold:
            self.holds[entity.id] = entity
            self.holds_by_title[entity.title.id][entity] = None
            self.latest_hold[(entity.patron.id, entity.title.id)] = entity
        elif cls is Loan:
            self.loans[entity.id] = entity
            self.open_loan_by_item[entity.item.id] = entity
            key = (entity.patron.id, entity.item.title.media_type)
            self.loans_by_patron_media[key].append(entity)
        elif cls is Transport:
            self.transports[entity.id] = entity

    # -- changes during a batch

    def add(self, entity: Any) -> None:
        cls = type(entity)
        entity.id = self.next_id[cls]
        self.next_id[cls] += 1
        self.new[cls].append(entity)
        self._keep(entity, saved=False)

    def _begin_batch(self) -> None:
        # What the batch's committed events name (see commit_events).
        self._named: dict[type, set] = {Item: set(), Loan: set(), Hold: set(), Transport: set()}
        self._closed: list[CirculationEvent] = []

    def commit_events(self) -> None:
        """Take in the events committed since the last call: their rows, numbered in the
        batch, the entities they name (which the batch may have changed) and those they
        close. Done at each commit, while those entities are in the processor's caches;
        at the end of the day they would all have to be read back from memory."""
        rows, events = self.event_rows, self.events
        first = self.feed_last_id + 1
        items, loans = self._named[Item], self._named[Loan]
        holds, transports = self._named[Hold], self._named[Transport]
        closed = self._closed
        for number in range(len(rows), len(events)):
            event = events[number]
            rows.append(event_row(first + number, event))
            items.add(event.item)
            loans.add(event.loan)
            holds.add(event.hold)
            transports.add(event.transport)
            if event.type in _CLOSING:
                closed.append(event)

    def touch(self, entity: Any) -> Any:
        """Mark an entity as possibly changed in this batch (a use case took it to change
        it)."""
        if entity is not None:
            self.touched.add(entity)
        return entity

    def active_hold(self, patron_id: int, title_id: int) -> Hold | None:
        """The patron's active hold on the title, if any."""
        hold = self.latest_hold.get((patron_id, title_id))
        return hold if hold is not None and hold.is_active else None

    def _changed_candidates(self) -> dict[type, set]:
        """Every entity the batch may have changed, by class: the touched ones, and every
        entity the batch's events are about. Each change the rules make is recorded by an
        event that names what it changed (so the feed replays to the state), which is how
        a hold taken from a queue, or the item a hold or transport moves, is found here."""
        candidates = self._named
        for entity in self.touched:
            candidates.setdefault(type(entity), set()).add(entity)
        for entities in candidates.values():
            entities.discard(None)
        return candidates

    # -- writing a batch

    def flush(self, also: Callable[[Connection], None] | None = None) -> int:
        """Hand the batch to the writer (one transaction); returns the number of events.

        `also` runs in the same transaction (e.g. to record how far a simulation got); for
        a background writer it must be picklable. With a background writer the batch may
        still be on its way when this returns: `wait()` waits until it is written."""
        batch = Batch(self.feed_last_id, finish=also)
        self.commit_events()  # none are left after a use case's commit; to be sure
        new_rows = {cls: list(map(_ROWS[cls], self.new.get(cls, ()))) for cls in TABLE_OF}
        # Changed rows, grouped by which columns changed: one UPDATE shape per group, and
        # indexes are only maintained for columns that really changed.
        updates: dict[type, dict[tuple[int, ...], list[tuple]]] = {}
        changed: list[tuple[Any, tuple]] = []
        candidates = self._changed_candidates()
        for cls, entities in candidates.items():
            row_of = _ROWS[cls]
            groups: dict[tuple[int, ...], list[tuple]] = defaultdict(list)
            for entity in entities:
                before = entity._stored_row
                if before is None:
                    continue  # new in this batch (inserted whole), or never to be written
                row = row_of(entity)
                if row != before:
                    groups[_changed_columns(row, before)].append(row)
                    changed.append((entity, row))
            if groups:
                updates[cls] = groups
        # Catalogue and patrons first (changed rows may refer to them), then changes to
        # existing rows (closing a loan, transport or hold frees its item), then new
        # loans, holds and transports, which may take the freed item. An update carries
        # only its changed values and the id; the writer converts values for the driver.
        writes = batch.writes
        for cls, table in ENTITY_TABLES[:3]:
            if new_rows[cls]:
                writes.append((table.name, None, new_rows[cls]))
        for cls, table in ENTITY_TABLES:
            if cls in updates:
                for columns, rows in _update_groups(table, updates[cls]):
                    writes.append((table.name, columns, list(map(itemgetter(*columns, 0), rows))))
        for cls, table in ENTITY_TABLES[3:]:
            if new_rows[cls]:
                writes.append((table.name, None, new_rows[cls]))
        batch.events = self.event_rows
        written = len(self.events)
        self.writer.write(batch)
        self.feed_last_id += written
        for cls, rows in new_rows.items():
            for entity, row in zip(self.new.get(cls, ()), rows, strict=True):
                entity._stored_row = row
        for entity, row in changed:
            entity._stored_row = row
        self._forget_history()
        self.new = defaultdict(list)
        self.touched.clear()
        self.events = []
        self.event_rows = []
        self._begin_batch()
        return written

    def wait(self) -> None:
        """Wait until every flushed batch is in the database (raises the writer's error
        if one is not)."""
        self.writer.wait()

    def close(self) -> None:
        """Wait for the flushed batches and release the writer (a later flush starts it
        again)."""
        self.writer.close()

    def _forget_history(self) -> None:
        """Drop the loans, holds and transports this batch closed: the events that close
        them name them (a loan is closed by its checkin, a hold by being fulfilled,
        cancelled or expired, a transport by arriving or being lost)."""
        loans, holds, transports = [], [], []
        for event in self._closed:
            kind = event.type
            if kind is _CHECKIN:
                loans.append(event.loan)
            elif kind in _HOLD_CLOSED:
                holds.append(event.hold)
            elif kind in _TRANSPORT_CLOSED:
                transports.append(event.transport)
        for loan in loans:
            if loan.returned_at is None or self.loans.get(loan.id) is not loan:
                continue
            del self.loans[loan.id]
            if self.open_loan_by_item.get(loan.item.id) is loan:
                del self.open_loan_by_item[loan.item.id]
            key = (loan.patron.id, loan.item.title.media_type)
            self.loans_by_patron_media[key].remove(loan)
        for hold in holds:
            if hold.is_active or self.holds.get(hold.id) is not hold:
                continue
            del self.holds[hold.id]
            del self.holds_by_title[hold.title.id][hold]
            key = (hold.patron.id, hold.title.id)
            if self.latest_hold.get(key) is hold:
                del self.latest_hold[key]
        for transport in transports:
            if transport.is_open or self.transports.get(transport.id) is not transport:
                continue
            del self.transports[transport.id]


_QUEUE_ORDER = attrgetter("placed_at", "id")


def _newest_first(loan: Loan) -> tuple:
    return (-loan.checked_out_at.timestamp(), loan.id)


# Enum members the repositories read for every use case, bound to names (in Python 3.11
# reading a member off its class goes through EnumType.__getattr__: some 0.3 us each).
_AVAILABLE, _WAITING, _READY = ItemStatus.AVAILABLE, HoldStatus.WAITING, HoldStatus.READY
_CHECKIN = EventType.CHECKIN
_HOLD_CLOSED = frozenset(
    {EventType.HOLD_FULFILLED, EventType.HOLD_CANCELLED, EventType.HOLD_EXPIRED}
)
_TRANSPORT_CLOSED = frozenset({EventType.TRANSPORT_RECEIVED, EventType.TRANSPORT_LOST})
_CLOSING = frozenset({_CHECKIN, *_HOLD_CLOSED, *_TRANSPORT_CLOSED})


class _Repository:
    def __init__(self, state: MemoryState):
        self.state = state

    def add(self, entity) -> None:
        self.state.add(entity)


class _Reference(_Repository):
    def municipality(self, code: str) -> Municipality | None:
        return self.state.municipalities.get(code)

    def municipalities(self) -> list[Municipality]:
        return sorted(self.state.municipalities.values(), key=lambda m: m.code)

    def branches(self) -> list[Branch]:
        return list(self.state.branches.values())

    def collection(self, code: str) -> Collection:
        return found_or_raise(self.state.collections.get(code), "collection", code)

    def rule(self, media_type: MediaType, category: PatronCategory) -> CirculationRule:
        rule = self.state.rules.get((media_type, category))
        if rule is None:
            key = f"{media_type}/{category}"
            raise errors.NotFound(f"no circulation rule for {key!r}")
        return rule

    def memberships_of(self, municipality_code: str) -> list[Membership]:
        periods = [m for m in self.state.memberships if m.municipality_code == municipality_code]
        return sorted(periods, key=attrgetter("joined_on"))

    def add(self, entity) -> None:
        raise errors.InvalidRequest("membership changes are not part of a batch")


def _not_found(what: str, key) -> errors.NotFound:
    return errors.NotFound(f"no {what} {key!r}")  # as repository.found_or_raise says it


# The repositories below run for every use case of a simulated day: lookups are written
# out rather than going through found_or_raise and touch.


class _Titles(_Repository):
    def get(self, title_id: int) -> Title:
        title = self.state.titles.get(title_id)
        if title is None:
            raise _not_found("title", title_id)
        return title

    lock = get  # the batch has the database to itself


class _Items(_Repository):
    def by_barcode(self, barcode: str) -> Item:
        item = self.state.items_by_barcode.get(barcode)
        if item is None:
            raise _not_found("item with barcode", barcode)
        self.state.touched.add(item)
        return item

    def barcode_taken(self, barcode: str) -> bool:
        return barcode in self.state.items_by_barcode

    def lock(self, item_id: int) -> Item:
        item = self.state.items.get(item_id)
        if item is None:
            raise _not_found("item", item_id)
        self.state.touched.add(item)
        return item

    def available_copies(self, title_id: int) -> list[Item]:
        # Not touched: the events of the hold or transport the copy goes to name it.
        copies = self.state.items_by_title.get(title_id, ())
        return [item for item in copies if item.status == _AVAILABLE]


class _Patrons(_Repository):
    def by_card(self, card_number: str) -> Patron:
        patron = self.state.patrons_by_card.get(card_number)
        if patron is None:
            raise _not_found("patron with card", card_number)
        return patron

    def card_taken(self, card_number: str) -> bool:
        return card_number in self.state.patrons_by_card

    def lock(self, patron_id: int) -> Patron:
        return found_or_raise(self.state.patrons.get(patron_id), "patron", patron_id)


class _Loans(_Repository):
    def get(self, loan_id: int) -> Loan:
        loan = self.state.loans.get(loan_id)
        if loan is None:
            raise _not_found("loan", loan_id)
        self.state.touched.add(loan)
        return loan

    def open_for_item(self, item_id: int) -> Loan | None:
        loan = self.state.open_loan_by_item.get(item_id)
        if loan is None or not loan.is_active:
            return None
        self.state.touched.add(loan)
        return loan

    def count_open(self, patron_id: int, media_type: MediaType) -> int:
        count = 0
        for loan in self.state.loans_by_patron_media.get((patron_id, media_type), ()):
            if loan.is_active:
                count += 1
        return count

    def of_patron(self, patron_id: int, open_only: bool = False) -> list[Loan]:
        by_type = self.state.loans_by_patron_media
        loans = [loan for media in MediaType for loan in by_type.get((patron_id, media), ())]
        # Newest first, as the database answers (ports.LoanRepository.of_patron).
        loans.sort(key=_newest_first)
        return [loan for loan in loans if loan.is_active or not open_only]


class _Holds(_Repository):
    def get(self, hold_id: int) -> Hold:
        hold = self.state.holds.get(hold_id)
        if hold is None:
            raise _not_found("hold", hold_id)
        self.state.touched.add(hold)
        return hold

    def waiting_for_title(self, title_id: int) -> list[Hold]:
        # Not touched: a hold the rules take from the queue is trapped, and that event
        # names it.
        holds = self.state.holds_by_title.get(title_id)
        if not holds:
            return []  # most titles: nobody waits
        queue = [hold for hold in holds if hold.status == _WAITING]
        queue.sort(key=_QUEUE_ORDER)
        return queue

    def active_for(self, patron_id: int, title_id: int) -> Hold | None:
        return self.state.touch(self.state.active_hold(patron_id, title_id))

    def ready_for_item(self, item_id: int) -> Hold | None:
        item = self.state.items[item_id]
        for hold in self.state.holds_by_title.get(item.title.id, ()):
            if hold.item is item and hold.status == _READY:
                return self.state.touch(hold)
        return None

    def ready_expiring(self, now: datetime) -> list[Hold]:
        due = [h for h in self.state.holds.values() if h.status == _READY and h.expires_at <= now]
        return [self.state.touch(h) for h in sorted(due, key=lambda h: (h.title.id, h.id))]


class _Transports(_Repository):
    def get(self, transport_id: int) -> Transport:
        transport = self.state.transports.get(transport_id)
        if transport is None:
            raise _not_found("transport", transport_id)
        self.state.touched.add(transport)
        return transport

    def open(self) -> list[Transport]:
        return [self.state.touch(t) for t in self.state.transports.values() if t.is_open]

    def overdue(self, dispatched_before: datetime) -> list[Transport]:
        return [
            self.state.touch(t)
            for t in self.state.transports.values()
            if t.is_open and t.dispatched_at is not None and t.dispatched_at <= dispatched_before
        ]


class BatchUnitOfWork:
    """Runs the use cases against a MemoryState; `flush()` writes what they did.

    Each use case still sees `with uow: … uow.commit()`: a use case that raises before
    commit leaves its events out (domain methods check every rule before they change
    anything, so a refusal leaves no half-made change either).
    """

    def __init__(self, state: MemoryState):
        self.state = state
        self.reference = _Reference(state)
        self.titles = _Titles(state)
        self.items = _Items(state)
        self.patrons = _Patrons(state)
        self.loans = _Loans(state)
        self.holds = _Holds(state)
        self.transports = _Transports(state)
        # An attribute, not a property: the use cases ask for it several times each.
        self.consortium: Consortium = state.consortium
        self._mark: int | None = None

    # A use case's events go straight into the batch; leaving the block without commit()
    # takes them out again.

    def __enter__(self) -> BatchUnitOfWork:
        self._mark = len(self.state.events)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._mark is not None:
            del self.state.events[self._mark :]
            self._mark = None

    def record(self, events: CirculationEvent | Iterable[CirculationEvent]) -> None:
        if type(events) is CirculationEvent:
            self.state.events.append(events)
        else:
            self.state.events.extend(events)

    def refresh(self, entity) -> None:
        self.state.touch(entity)

    def commit(self) -> None:
        self.state.commit_events()
        self._mark = len(self.state.events)

    def rollback(self) -> None:
        if self._mark is not None:
            del self.state.events[self._mark :]

    def flush(self, also: Callable[[Connection], None] | None = None) -> int:
        return self.state.flush(also)
