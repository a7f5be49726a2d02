"""The visitors' use cases on SQLite and PostgreSQL: PINs stored only as hashes, log-in and
sessions, and every change a visitor makes going through the staff use cases with their
rules and circulation events — on the visitor's own loans and holds only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from operational.adapters import tables
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock, SystemClock
from operational.domain import errors
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.domain.visitors import SESSION_IDLE_TIMEOUT, WeakPin, csrf_token_for
from operational.service_layer import services, visitors


def reading(library):
    return SqlAlchemyUnitOfWork(library.engine, read_only=True)


def log_in(library, hasher, who: str, pin: str | None = None, clock=None) -> str:
    card = library.cards[who]
    return visitors.log_in(
        reading(library),
        library.uow(),
        clock or SystemClock(),
        hasher,
        card.number,
        pin or card.pin,
    )


def test_only_the_hash_of_a_pin_is_stored(library, hasher):
    with library.engine.connect() as c:
        rows = c.execute(select(tables.patron_pin)).all()
    assert len(rows) == len(library.cards)
    pins = {card.pin for card in library.cards.values()}
    for row in rows:
        assert row.pin_hash.startswith("$argon2id$")
        assert not any(pin in row.pin_hash for pin in pins)
    assert hasher.verify(rows[0].pin_hash, library.cards["anna"].pin)


def test_a_weak_pin_is_refused_and_nothing_changes(library, hasher):
    anna = library.cards["anna"]
    with pytest.raises(WeakPin):
        visitors.set_pin(library.uow(), library.clock, hasher, anna.number, "1111")
    log_in(library, hasher, "anna")  # the old PIN still works
    with pytest.raises(errors.NotFound):
        visitors.set_pin(library.uow(), library.clock, hasher, "NO-SUCH-CARD", "4821")


def test_log_in_with_the_right_pin_only(library, hasher):
    secret = log_in(library, hasher, "anna")
    visitor = visitors.signed_in(reading(library), SystemClock(), secret)
    assert visitor.card_number == library.cards["anna"].number
    assert visitor.csrf_token == csrf_token_for(secret)
    for card, pin in [
        (library.cards["anna"].number, "0482"),  # wrong PIN
        (library.cards["anna"].number, library.cards["bertil"].pin),  # another's PIN
        ("1884-9999999", "4821"),  # no such card
    ]:
        with pytest.raises(visitors.LoginRefused, match="wrong card number or PIN"):
            visitors.log_in(reading(library), library.uow(), SystemClock(), hasher, card, pin)


def test_a_patron_without_a_pin_cannot_log_in(library, hasher):
    services.register_patron(
        library.uow(), library.clock, "1884-0000999", "1884", PatronCategory.ADULT
    )
    with pytest.raises(visitors.LoginRefused):
        visitors.log_in(reading(library), library.uow(), SystemClock(), hasher, "1884-0000999", "")


def test_sessions_end_on_log_out_when_idle_and_when_the_pin_changes(library, hasher):
    now = datetime.now(UTC)
    clock = SimulatedClock(now)
    secret = log_in(library, hasher, "anna", clock=clock)
    other = log_in(library, hasher, "anna", clock=clock)
    visitors.log_out(library.uow(), secret)
    with pytest.raises(visitors.NotSignedIn):
        visitors.signed_in(reading(library), clock, secret)
    assert visitors.signed_in(reading(library), clock, other)  # another device stays
    # idle: a request within the timeout keeps it alive, none for the timeout ends it
    clock.advance(SESSION_IDLE_TIMEOUT - timedelta(minutes=1))
    assert visitors.signed_in(reading(library), clock, other).needs_touch
    visitors.touch_session(library.uow(), clock, other)
    clock.advance(SESSION_IDLE_TIMEOUT - timedelta(minutes=1))
    assert visitors.signed_in(reading(library), clock, other)
    clock.advance(timedelta(minutes=2))
    with pytest.raises(visitors.NotSignedIn):
        visitors.signed_in(reading(library), clock, other)
    # a new PIN ends every session of the patron
    third = log_in(library, hasher, "anna", clock=clock)
    visitors.set_pin(library.uow(), clock, hasher, library.cards["anna"].number, "5937")
    with pytest.raises(visitors.NotSignedIn):
        visitors.signed_in(reading(library), clock, third)
    for bad in (None, "", "not-a-session"):
        with pytest.raises(visitors.NotSignedIn):
            visitors.signed_in(reading(library), clock, bad)


def test_only_session_hashes_are_stored(library, hasher):
    secret = log_in(library, hasher, "anna")
    with library.engine.connect() as c:
        stored = c.execute(select(tables.visitor_session.c.token_hash)).scalars().all()
    assert secret not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_renewing_goes_through_the_lending_rules_and_writes_its_event(library):
    anna = _patron_id(library, "anna")
    before = library.event_count()
    loan = visitors.renew_own_loan(library.uow(), SystemClock(), anna, library.loans["huset"])
    assert loan.renewals == 1
    assert library.event_types()[before:] == ["renew"]
    # Kallocain has a queue: refused, with the reason, and nothing written
    with pytest.raises(errors.NotRenewable) as refused:
        visitors.renew_own_loan(library.uow(), SystemClock(), anna, library.loans["kallocain"])
    assert refused.value.reason == "others_waiting"
    assert library.event_count() == before + 1


def test_a_visitor_cannot_touch_anothers_loan_or_hold(library):
    bertil = _patron_id(library, "bertil")
    before = library.event_count()
    with pytest.raises(errors.NotFound):
        visitors.renew_own_loan(library.uow(), SystemClock(), bertil, library.loans["huset"])
    with pytest.raises(errors.NotFound):
        visitors.cancel_own_hold(
            library.uow(), SystemClock(), bertil, library.holds["kallocain_cecilia"]
        )
    assert library.event_count() == before


def test_placing_and_cancelling_a_hold_writes_the_usual_events(library):
    anna = _patron_id(library, "anna")
    before = library.event_count()
    hold = visitors.place_own_hold(
        library.uow(), SystemClock(), anna, library.titles["eden"], "NORA"
    )
    # Öst om Eden's only copy is on the shelf in Laxå: trapped and sent to Nora
    assert library.event_types()[before:] == ["hold_placed", "hold_trapped", "transport_requested"]
    assert hold.pickup_branch_code == "NORA"
    with pytest.raises(errors.DuplicateHold):
        visitors.place_own_hold(library.uow(), SystemClock(), anna, library.titles["eden"], "LIND")
    visitors.cancel_own_hold(library.uow(), SystemClock(), anna, hold.id)
    assert library.event_types()[-1] == "hold_cancelled"
    with pytest.raises(errors.HoldNotActive):
        visitors.cancel_own_hold(library.uow(), SystemClock(), anna, hold.id)


def test_the_title_view_counts_the_queue_and_estimates_the_wait(library):
    clock = SystemClock()
    kallocain = library.titles["kallocain"]
    anonymous = visitors.title_view(reading(library), clock, kallocain, None)
    assert anonymous.holds_waiting == 1 and anonymous.own_hold is None
    assert [c.status for c in anonymous.copies] == ["on_loan", "on_loan"]
    assert anonymous.estimated_ready is not None  # both copies out: a new hold waits
    due = min(c.due_at for c in anonymous.copies).date()
    assert anonymous.estimated_ready > due
    cecilia = visitors.title_view(
        reading(library), clock, kallocain, _patron_id(library, "cecilia")
    )
    assert cecilia.own_hold is not None and cecilia.own_position == 1
    assert cecilia.estimated_ready <= anonymous.estimated_ready  # first in the queue
    shelf = visitors.title_view(reading(library), clock, library.titles["eden"], None)
    assert shelf.holds_waiting == 0 and shelf.estimated_ready is None  # on the shelf now


# ------------------------------------------------- the membership timeline, as for staff


@pytest.fixture
def before_joining(engine, hasher):
    """Laxå before it joined (2025-04-01): a Laxå patron, a title owned only by Nora, and
    one owned by Laxå."""
    clock = SimulatedClock(datetime(2025, 3, 10, 10, tzinfo=UTC))
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    nora_only = services.add_title(
        uow(), clock, "Nora-boken", "A", MediaType.BOOK, Audience.ADULT
    ).id
    laxa_own = services.add_title(
        uow(), clock, "Laxå-boken", "B", MediaType.BOOK, Audience.ADULT
    ).id
    services.add_item(uow(), clock, "N-1", nora_only, "NORA")
    services.add_item(uow(), clock, "L-1", laxa_own, "LAXA")
    patron = services.register_patron(uow(), clock, "1860-0000777", "1860", PatronCategory.ADULT)
    return clock, patron.id, nora_only, laxa_own


def test_before_joining_only_the_own_municipality_may_be_reserved(engine, before_joining):
    clock, patron, nora_only, laxa_own = before_joining
    read = lambda: SqlAlchemyUnitOfWork(engine, read_only=True)  # noqa: E731
    view = visitors.title_view(read(), clock, nora_only, patron)
    assert view.reachable_copies == 0
    assert {b.municipality_code for b in view.pickup_branches} == {"1860"}
    with pytest.raises(visitors.NothingToReserve):
        visitors.place_own_hold(SqlAlchemyUnitOfWork(engine), clock, patron, nora_only, "LAXA")
    # picking up in Nora is refused by the staff use case's own rule
    with pytest.raises(errors.NotPermitted):
        visitors.place_own_hold(SqlAlchemyUnitOfWork(engine), clock, patron, laxa_own, "NORA")
    hold = visitors.place_own_hold(SqlAlchemyUnitOfWork(engine), clock, patron, laxa_own, "LAXA")
    assert hold.status == "ready"  # the copy was on the shelf at the pickup branch
    # after the join, the same visitor may reserve Nora's book and pick it up anywhere
    clock.set(datetime(2025, 4, 2, 10, tzinfo=UTC))
    view = visitors.title_view(read(), clock, nora_only, patron)
    assert view.reachable_copies == 1
    assert {"1884", "1885", "1860"} <= {b.municipality_code for b in view.pickup_branches}
    assert "OREB-HUB" not in {b.code for b in view.pickup_branches}
    visitors.place_own_hold(SqlAlchemyUnitOfWork(engine), clock, patron, nora_only, "LAXA")


def _patron_id(library, who: str) -> int:
    with library.engine.connect() as c:
        return c.execute(
            select(tables.patron.c.id).where(
                tables.patron.c.card_number == library.cards[who].number
            )
        ).scalar_one()
