"""Consistency checks over a whole lending-core database, used after concurrent load and
after simulation: every item is in exactly one state, and the feed records every change."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select

from operational.adapters import tables


def state_violations(engine: Engine) -> list[str]:
    """Every way in which an item, loan, hold or transport contradicts another."""
    problems: list[str] = []
    with engine.connect() as c:
        items = {row.id: row for row in c.execute(select(tables.item))}
        open_loans = Counter(
            c.execute(
                select(tables.loan.c.item_id).where(tables.loan.c.returned_at.is_(None))
            ).scalars()
        )
        open_transports = {
            row.item_id: row
            for row in c.execute(
                select(tables.transport).where(
                    tables.transport.c.received_at.is_(None), tables.transport.c.lost_at.is_(None)
                )
            )
        }
        transport_count = Counter(
            c.execute(
                select(tables.transport.c.item_id).where(
                    tables.transport.c.received_at.is_(None), tables.transport.c.lost_at.is_(None)
                )
            ).scalars()
        )
        live_holds = list(
            c.execute(select(tables.hold).where(tables.hold.c.status.in_(["in_transit", "ready"])))
        )
    ready_by_item = Counter(h.item_id for h in live_holds if h.status == "ready")
    for item_id, count in open_loans.items():
        if count > 1:
            problems.append(f"item {item_id} is on {count} open loans")
    for item_id, count in transport_count.items():
        if count > 1:
            problems.append(f"item {item_id} is in {count} open transports")
    for item_id, item in items.items():
        on_loan = open_loans[item_id] > 0
        travelling = item_id in open_transports
        on_shelf_for_hold = ready_by_item[item_id] > 0
        states = [
            name
            for name, flag in (
                ("on_loan", on_loan),
                ("in_transit", travelling),
                ("on_hold_shelf", on_shelf_for_hold),
            )
            if flag
        ]
        if len(states) > 1:
            problems.append(f"item {item_id} is at once {' and '.join(states)}")
        expected = states[0] if states else None
        if expected is None and item.status in ("on_loan", "in_transit", "on_hold_shelf"):
            problems.append(f"item {item_id} has status {item.status} with nothing behind it")
        if expected is not None and item.status != expected:
            problems.append(f"item {item_id} has status {item.status} but is {expected}")
    for hold in live_holds:
        item = items.get(hold.item_id)
        if item is None:
            problems.append(f"hold {hold.id} is {hold.status} without an item")
        elif hold.status == "ready" and item.current_branch_code != hold.pickup_branch_code:
            problems.append(
                f"hold {hold.id} is ready but its item is at {item.current_branch_code}"
            )
        elif hold.status == "in_transit":
            transport = open_transports.get(hold.item_id)
            if transport is None or transport.hold_id != hold.id:
                problems.append(f"hold {hold.id} is in transit without its transport")
    return problems


def feed_violations(engine: Engine) -> list[str]:
    """Whether the feed has one event per recorded change, with gap-free ids."""
    problems: list[str] = []
    with engine.connect() as c:
        events = c.execute(
            select(tables.circulation_event.c.id, tables.circulation_event.c.type).order_by(
                tables.circulation_event.c.id
            )
        ).all()
        counts = Counter(e.type for e in events)
        ids = [e.id for e in events]
        if ids != list(range(1, len(ids) + 1)):
            problems.append("event ids are not 1..N without gaps")
        expected = {
            "checkout": c.execute(select(tables.loan.c.id)).all(),
            "checkin": c.execute(
                select(tables.loan.c.id).where(tables.loan.c.returned_at.is_not(None))
            ).all(),
            "hold_placed": c.execute(select(tables.hold.c.id)).all(),
            "transport_requested": c.execute(select(tables.transport.c.id)).all(),
            "transport_received": c.execute(
                select(tables.transport.c.id).where(tables.transport.c.received_at.is_not(None))
            ).all(),
            "patron_registered": c.execute(select(tables.patron.c.id)).all(),
            "item_added": c.execute(select(tables.item.c.id)).all(),
        }
    for kind, rows in expected.items():
        if counts[kind] != len(rows):
            problems.append(f"{counts[kind]} {kind} events for {len(rows)} rows")
    return problems
