"""Circulation events: the append-only record of every state change in the lending core.

An event refers to the entities it concerns; the persistence adapter turns those references
into ids when it writes the event in the same transaction as the change (the ids of new
loans, holds and transports exist only then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    PATRON_REGISTERED = "patron_registered"
    TITLE_ADDED = "title_added"
    ITEM_ADDED = "item_added"
    ITEM_WITHDRAWN = "item_withdrawn"
    # added: a copy moved for good to another branch (collection balancing): its home
    # branch changes; from_branch_code is the old home, to_branch_code the new one
    ITEM_REHOMED = "item_rehomed"
    CHECKOUT = "checkout"
    RENEW = "renew"
    CHECKIN = "checkin"
    HOLD_PLACED = "hold_placed"
    HOLD_TRAPPED = "hold_trapped"
    HOLD_READY = "hold_ready"
    HOLD_FULFILLED = "hold_fulfilled"
    HOLD_CANCELLED = "hold_cancelled"
    HOLD_EXPIRED = "hold_expired"
    # added: an in-transit hold goes back to the queue when its item is lost on the way
    HOLD_REQUEUED = "hold_requeued"
    TRANSPORT_REQUESTED = "transport_requested"
    TRANSPORT_DISPATCHED = "transport_dispatched"
    TRANSPORT_RECEIVED = "transport_received"
    TRANSPORT_LOST = "transport_lost"
    MEMBERSHIP_CHANGED = "membership_changed"


@dataclass(slots=True)
class CirculationEvent:
    """One state change. Entity fields hold domain objects (Item, Patron, Loan, Hold,
    Transport, Title), read for their ids when the event is written."""

    type: EventType
    occurred_at: datetime
    branch_code: str | None = None
    item: Any = None
    title: Any = None
    patron: Any = None
    loan: Any = None
    hold: Any = None
    transport: Any = None
    from_branch_code: str | None = None
    to_branch_code: str | None = None
    due_at: datetime | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def title_id(self) -> int | None:
        if self.title is not None:
            return self.title.id
        if self.item is not None:
            return self.item.title.id
        return None
