"""Rebuild the lending core's state from its event feed alone, and compare it with the
tables: if every change went through the service layer and was recorded, the two agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from operational.adapters import tables


@dataclass
class Replayed:
    items: dict[int, dict] = field(default_factory=dict)
    loans: dict[int, dict] = field(default_factory=dict)
    holds: dict[int, dict] = field(default_factory=dict)
    transports: dict[int, dict] = field(default_factory=dict)
    patrons: set[int] = field(default_factory=set)
    titles: set[int] = field(default_factory=set)


def replay(engine: Engine) -> Replayed:
    state = Replayed()
    with engine.connect() as c:
        events = c.execute(
            select(tables.circulation_event).order_by(tables.circulation_event.c.id)
        ).all()
    for e in events:
        _apply(state, e)
    return state


def _free_item_at(state: Replayed, item_id: int, branch: str) -> None:
    state.items[item_id].update(status="available", current_branch_code=branch)


def _apply(state: Replayed, e) -> None:
    kind = e.type
    if kind == "title_added":
        state.titles.add(e.title_id)
    elif kind == "patron_registered":
        state.patrons.add(e.patron_id)
    elif kind == "item_added":
        state.items[e.item_id] = {
            "status": "available",
            "home_branch_code": e.branch_code,
            "current_branch_code": e.branch_code,
            "title_id": e.title_id,
        }
    elif kind == "item_rehomed":
        state.items[e.item_id]["home_branch_code"] = e.to_branch_code
    elif kind == "item_withdrawn":
        state.items[e.item_id]["status"] = "withdrawn"
    elif kind == "checkout":
        state.loans[e.loan_id] = {
            "item_id": e.item_id,
            "patron_id": e.patron_id,
            "branch_code": e.branch_code,
            "due_at": e.due_at,
            "renewals": 0,
            "returned_at": None,
            "return_branch_code": None,
        }
        state.items[e.item_id]["status"] = "on_loan"
    elif kind == "renew":
        loan = state.loans[e.loan_id]
        loan["due_at"], loan["renewals"] = e.due_at, loan["renewals"] + 1
    elif kind == "checkin":
        state.loans[e.loan_id].update(returned_at=e.occurred_at, return_branch_code=e.branch_code)
        _free_item_at(state, e.item_id, e.branch_code)
    elif kind == "hold_placed":
        state.holds[e.hold_id] = {
            "title_id": e.title_id,
            "patron_id": e.patron_id,
            "pickup_branch_code": e.branch_code,
            "status": "waiting",
            "item_id": None,
        }
    elif kind == "hold_trapped":
        state.holds[e.hold_id]["item_id"] = e.item_id
    elif kind == "hold_ready":
        state.holds[e.hold_id]["status"] = "ready"
        state.items[e.item_id].update(status="on_hold_shelf", current_branch_code=e.branch_code)
    elif kind == "hold_fulfilled":
        state.holds[e.hold_id]["status"] = "fulfilled"
    elif kind in ("hold_cancelled", "hold_expired"):
        hold = state.holds[e.hold_id]
        if hold["status"] == "ready":  # its copy leaves the hold shelf
            _free_item_at(state, hold["item_id"], hold["pickup_branch_code"])
        hold["status"] = "cancelled" if kind == "hold_cancelled" else "expired"
    elif kind == "hold_requeued":
        state.holds[e.hold_id].update(status="waiting", item_id=None)
    elif kind == "transport_requested":
        state.transports[e.transport_id] = {
            "item_id": e.item_id,
            "from_branch_code": e.from_branch_code,
            "to_branch_code": e.to_branch_code,
            "reason": e.reason,
            "hold_id": e.hold_id,
            "dispatched": False,
            "state": "open",
        }
        state.items[e.item_id]["status"] = "in_transit"
        if e.reason == "hold":
            state.holds[e.hold_id]["status"] = "in_transit"
    elif kind == "transport_dispatched":
        state.transports[e.transport_id]["dispatched"] = True
    elif kind == "transport_received":
        state.transports[e.transport_id]["state"] = "received"
        _free_item_at(state, e.item_id, e.to_branch_code)
    elif kind == "transport_lost":
        state.transports[e.transport_id]["state"] = "lost"
        state.items[e.item_id]["status"] = "lost"
    elif kind == "membership_changed":
        pass
    else:
        raise AssertionError(f"replay does not know event type {kind!r}")


def differences(engine: Engine, limit: int = 20) -> list[str]:
    """Where the tables disagree with the replayed feed (at most `limit` findings)."""
    state = replay(engine)
    found: list[str] = []
    with engine.connect() as c:
        items = {r.id: r for r in c.execute(select(tables.item))}
        loans = {r.id: r for r in c.execute(select(tables.loan))}
        holds = {r.id: r for r in c.execute(select(tables.hold))}
        transports = {r.id: r for r in c.execute(select(tables.transport))}
        patrons = set(c.execute(select(tables.patron.c.id)).scalars())
        titles = set(c.execute(select(tables.title.c.id)).scalars())
    for name, table_ids, replayed_ids in (
        ("item", set(items), set(state.items)),
        ("loan", set(loans), set(state.loans)),
        ("hold", set(holds), set(state.holds)),
        ("transport", set(transports), set(state.transports)),
        ("patron", patrons, state.patrons),
        ("title", titles, state.titles),
    ):
        if table_ids != replayed_ids:
            found.append(
                f"{name} ids differ: only in tables {sorted(table_ids - replayed_ids)[:5]}"
                f", only in the feed {sorted(replayed_ids - table_ids)[:5]}"
            )
    for item_id, expected in state.items.items():
        row = items.get(item_id)
        if row is None:
            continue
        actual = {k: getattr(row, k) for k in expected}
        actual["status"] = str(actual["status"])
        if actual != expected:
            found.append(f"item {item_id}: table {actual} != feed {expected}")
    for loan_id, expected in state.loans.items():
        row = loans.get(loan_id)
        if row is not None:
            actual = {k: getattr(row, k) for k in expected}
            if actual != expected:
                found.append(f"loan {loan_id}: table {actual} != feed {expected}")
    for hold_id, expected in state.holds.items():
        row = holds.get(hold_id)
        if row is not None:
            actual = {k: getattr(row, k) for k in expected}
            actual["status"] = str(actual["status"])
            if actual != expected:
                found.append(f"hold {hold_id}: table {actual} != feed {expected}")
    for transport_id, expected in state.transports.items():
        row = transports.get(transport_id)
        if row is None:
            continue
        actual = {
            "item_id": row.item_id,
            "from_branch_code": row.from_branch_code,
            "to_branch_code": row.to_branch_code,
            "reason": str(row.reason),
            "hold_id": row.hold_id,
            "dispatched": row.dispatched_at is not None,
            "state": "received" if row.received_at else "lost" if row.lost_at else "open",
        }
        if actual != expected:
            found.append(f"transport {transport_id}: table {actual} != feed {expected}")
    return found[:limit]
