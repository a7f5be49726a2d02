"""Property-based test of the lending rules: random sequences of checkouts, returns,
renewals, holds, cancellations, van runs and passing time, across the five's join date.
After every step no item is in two states; at the end the tables equal the replayed feed
and the feed has one event per change."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.clock import SimulatedClock
from operational.domain import errors
from operational.service_layer import services
from tests.conftest import REFERENCE_DIR, local
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.operational.replay import differences
from tests.stress import scaled

pytestmark = pytest.mark.slow
BRANCHES = ["NORA", "LIND", "LIND-FEL", "KUM", "LAXA", "HBG"]
MUNICIPALITIES = ["1884", "1885", "1881", "1860"]  # Nora, Lindesberg, Kumla, Laxå
_template: Path | None = None


def _template_database() -> Path:
    """One initialised database, copied for every example (migrations are the slow part)."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="bibbla-property-"))
        _template = folder / "template.sqlite"
        engine = create_database_engine(f"sqlite:///{_template}")
        schema.init(engine, REFERENCE_DIR)
        engine.dispose()
    return _template


class LendingRules(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="bibbla-example-"))
        path = self.folder / "db.sqlite"
        shutil.copy(_template_database(), path)
        self.engine = create_database_engine(f"sqlite:///{path}")
        # A week before the five join, so runs cross the join date.
        self.desk = Desk(self.engine, SimulatedClock(local(2025, 3, 25, 10)))
        self.titles = [self.desk.title() for _ in range(3)]
        self.items = [
            self.desk.item(self.titles[n % 3], BRANCHES[n % len(BRANCHES)]) for n in range(8)
        ]
        self.patrons = [self.desk.patron(MUNICIPALITIES[n % 4]) for n in range(5)]
        self.loans: list[int] = []
        self.holds: list[int] = []

    def _attempt(self, action):
        try:
            return action()
        except errors.DomainError:
            return None  # a refusal is a valid outcome; the invariants check the rest

    @rule(patron=st.integers(0, 4), item=st.integers(0, 7), branch=st.sampled_from(BRANCHES))
    def checkout(self, patron, item, branch):
        loan = self._attempt(
            lambda: self.desk.checkout(self.patrons[patron], self.items[item], branch)
        )
        if loan is not None:
            self.loans.append(loan.id)

    @rule(item=st.integers(0, 7), branch=st.sampled_from(BRANCHES))
    def checkin(self, item, branch):
        self._attempt(lambda: self.desk.checkin(self.items[item], branch))

    @rule(loan=st.integers(0, 50))
    def renew(self, loan):
        if self.loans:
            self._attempt(lambda: self.desk.renew(self.loans[loan % len(self.loans)]))

    @rule(patron=st.integers(0, 4), title=st.integers(0, 2), branch=st.sampled_from(BRANCHES))
    def place_hold(self, patron, title, branch):
        hold = self._attempt(
            lambda: self.desk.hold(self.patrons[patron], self.titles[title], branch)
        )
        if hold is not None:
            self.holds.append(hold.id)

    @rule(hold=st.integers(0, 50))
    def cancel_hold(self, hold):
        if self.holds:
            self._attempt(lambda: self.desk.cancel(self.holds[hold % len(self.holds)]))

    @rule(pick=st.integers(0, 50), receive=st.booleans())
    def van(self, pick, receive):
        with self.engine.connect() as c:
            open_ids = c.execute(
                select(tables.transport.c.id, tables.transport.c.dispatched_at).where(
                    tables.transport.c.received_at.is_(None), tables.transport.c.lost_at.is_(None)
                )
            ).all()
        if open_ids:
            transport = open_ids[pick % len(open_ids)]
            if transport.dispatched_at is None:
                self._attempt(lambda: self.desk.dispatch(transport.id))
            elif receive:
                self._attempt(lambda: self.desk.receive(transport.id))

    @rule(hours=st.integers(1, 24 * 20))
    def time_passes(self, hours):
        self.desk.clock.advance(timedelta(hours=hours))
        services.expire_holds(self.desk.uow(), self.desk.clock)
        services.mark_lost_transports(self.desk.uow(), self.desk.clock)

    @invariant()
    def no_item_in_two_states(self):
        assert state_violations(self.engine) == []

    def teardown(self):
        try:
            assert differences(self.engine) == []
            assert feed_violations(self.engine) == []
        finally:
            self.engine.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)


LendingRules.TestCase.settings = settings(
    max_examples=scaled(25, 200),
    stateful_step_count=scaled(30, 60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lending_rules = LendingRules.TestCase
