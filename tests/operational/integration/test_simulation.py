"""The simulator, on short small-scale runs: determinism, the membership effect and its
counterfactual, and that everything it did went through the rules and into the feed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select, true

from operational.adapters import tables
from operational.adapters.batch import ENTITY_TABLES, MemoryState, entity_row
from operational.adapters.database import create_database_engine
from operational.simulation.runner import run_days
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR, local
from tests.operational.invariants import feed_violations, state_violations
from tests.operational.replay import differences
from tests.operational.simulation_runs import simulate, sqlite_engine

pytestmark = pytest.mark.slow
FIVE = ("1882", "1861", "1881", "1860", "1814")  # Askersund, Hallsberg, Kumla, Laxå, Lekeberg


def content_hash(engine: Engine) -> str:
    """A hash of everything the simulation wrote (not the database's own identity)."""
    digest = hashlib.sha256()
    with engine.connect() as c:
        for table in (
            tables.patron,
            tables.title,
            tables.item,
            tables.loan,
            tables.hold,
            tables.transport,
            tables.circulation_event,
        ):
            for row in c.execute(select(table).order_by(table.c.id)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    runs = {}
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        engine = sqlite_engine(tmp_path / f"{name}.sqlite")
        simulate(engine, date(2024, 3, 1), date(2024, 3, 21), seed=seed, scale=0.01)
        runs[name] = content_hash(engine)
        engine.dispose()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_resumed_run_continues_where_it_stopped(tmp_path):
    engine = sqlite_engine(tmp_path / "resume.sqlite")
    first = simulate(engine, date(2024, 3, 1), date(2024, 3, 20), scale=0.01)
    assert first.last_finished_day == date(2024, 3, 20)
    events = _count(engine, tables.circulation_event)
    again = Simulation.resume(engine, REFERENCE_DIR)
    assert again.next_day() == date(2024, 3, 21)
    run_days(again, date(2024, 3, 21))
    assert _count(engine, tables.circulation_event) > events
    with engine.connect() as c:
        run = c.execute(select(tables.simulation_run)).one()
    assert run.last_finished_day == date(2024, 3, 21)
    assert (run.seed, run.scale, run.scenario) == (7, 0.01, "baseline")
    assert state_violations(engine) == [] and differences(engine) == []


def test_state_equals_the_replayed_feed(engine):
    """On SQLite and PostgreSQL: every change went through the service layer and was
    recorded; no double loans, no item in two places."""
    simulate(engine, date(2025, 3, 20), date(2025, 4, 15))
    assert differences(engine) == []
    assert state_violations(engine) == []
    assert feed_violations(engine) == []


def test_batch_store_wrote_every_change(tmp_path):
    """The in-memory state after a run equals what a fresh load from the database sees."""
    engine = sqlite_engine(tmp_path / "store.sqlite")
    simulation = simulate(engine, date(2024, 5, 1), date(2024, 5, 20), scale=0.01)
    fresh = MemoryState(engine)
    for cls, _table in ENTITY_TABLES:
        live = {e.id: entity_row(e) for e in _entities(simulation.state, cls)}
        loaded = {e.id: entity_row(e) for e in _entities(fresh, cls)}
        assert live == loaded, cls.__name__


def _entities(state: MemoryState, cls) -> list:
    name = {
        "Title": "titles",
        "Item": "items",
        "Patron": "patrons",
        "Hold": "holds",
        "Loan": "loans",
        "Transport": "transports",
    }[cls.__name__]
    return list(getattr(state, name).values())


def _moment(day: date):
    return local(day.year, day.month, day.day, 0)


def _count(engine: Engine, table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def _shared_loans(
    engine: Engine, start: date, end: date, *, shared_only: bool = True
) -> dict[str, int]:
    """Loans by residents of each of the five of items owned by another municipality (with
    shared_only False: of any items)."""
    owner = tables.branch.alias("owner")
    shared = owner.c.municipality_code != tables.patron.c.home_municipality_code
    with engine.connect() as c:
        rows = c.execute(
            select(tables.patron.c.home_municipality_code, func.count())
            .select_from(
                tables.loan.join(tables.patron)
                .join(tables.item, tables.loan.c.item_id == tables.item.c.id)
                .join(owner, tables.item.c.home_branch_code == owner.c.code)
            )
            .where(
                tables.patron.c.home_municipality_code.in_(FIVE),
                shared if shared_only else true(),
                tables.loan.c.checked_out_at >= _moment(start),
                tables.loan.c.checked_out_at < _moment(end),
            )
            .group_by(tables.patron.c.home_municipality_code)
        ).all()
    return dict(rows)


def _each_of_the_five_borrowed(engine: Engine, start: date, end: date) -> None:
    """Not a vacuous zero: the five's residents did borrow in the period (their own stock)."""
    borrowed = _shared_loans(engine, start, end, shared_only=False)
    assert sorted(borrowed) == sorted(FIVE) and min(borrowed.values()) > 0, borrowed


@pytest.fixture(scope="module")
def join_runs(tmp_path_factory) -> dict[str, Engine]:
    """The same seed across the join date, with and without the five joining."""
    folder = tmp_path_factory.mktemp("join")
    engines = {}
    for name, no_join in (("join", False), ("no_join", True)):
        engine = sqlite_engine(folder / f"{name}.sqlite")
        simulate(
            engine, date(2025, 2, 1), date(2025, 5, 31), scale=0.03, no_join=no_join, tmp=folder
        )
        engines[name] = engine
    return engines


def test_before_joining_the_five_borrow_only_their_own_stock(join_runs):
    _each_of_the_five_borrowed(join_runs["join"], date(2025, 2, 1), date(2025, 3, 31))
    before = _shared_loans(join_runs["join"], date(2025, 2, 1), date(2025, 3, 31))
    assert sum(before.values()) == 0


def test_after_joining_they_borrow_other_municipalities_items(join_runs):
    after = _shared_loans(join_runs["join"], date(2025, 4, 8), date(2025, 5, 31))
    assert sum(after.values()) > 20, after


def test_without_the_join_nothing_changes(join_runs):
    _each_of_the_five_borrowed(join_runs["no_join"], date(2025, 4, 8), date(2025, 5, 31))
    after = _shared_loans(join_runs["no_join"], date(2025, 4, 8), date(2025, 5, 31))
    assert sum(after.values()) == 0
    with join_runs["no_join"].connect() as c:
        members = c.execute(select(tables.membership.c.municipality_code)).scalars().all()
    assert not set(FIVE) & set(members)


def test_transports_rise_and_waits_fall_after_the_join(join_runs):
    def cross_municipality_transports(engine, start, end) -> int:
        source, target = tables.branch.alias("source"), tables.branch.alias("target")
        with engine.connect() as c:
            return c.execute(
                select(func.count())
                .select_from(
                    tables.transport.join(
                        source, tables.transport.c.from_branch_code == source.c.code
                    ).join(target, tables.transport.c.to_branch_code == target.c.code)
                )
                .where(
                    target.c.municipality_code.in_(FIVE),
                    source.c.municipality_code != target.c.municipality_code,
                    tables.transport.c.requested_at >= _moment(start),
                    tables.transport.c.requested_at < _moment(end),
                )
            ).scalar_one()

    span = (date(2025, 4, 8), date(2025, 5, 31))
    joined = cross_municipality_transports(join_runs["join"], *span)
    alone = cross_municipality_transports(join_runs["no_join"], *span)
    assert joined > 20 and alone == 0


def test_hold_waits_of_the_five_fall_after_the_join(join_runs):
    """90th percentile of days from placing a hold to its copy being ready, for holds the five's
    residents placed after the join date; a hold still waiting at the end of the run
    counts as waiting longer than any filled one (so a short run does not favour the
    quickly filled)."""

    def p90_wait_days(engine) -> float:
        with engine.connect() as c:
            rows = c.execute(
                select(tables.hold.c.placed_at, tables.hold.c.ready_at, tables.hold.c.status)
                .select_from(tables.hold.join(tables.patron))
                .where(
                    tables.patron.c.home_municipality_code.in_(FIVE),
                    tables.hold.c.placed_at >= _moment(date(2025, 4, 8)),
                    tables.hold.c.placed_at < _moment(date(2025, 5, 10)),
                    tables.hold.c.status != "cancelled",
                )
            ).all()
        waits = sorted(
            (r.ready_at - r.placed_at).total_seconds() / 86400 if r.ready_at else float("inf")
            for r in rows
        )
        assert len(waits) > 10
        return waits[int(0.9 * len(waits))]

    joined, alone = p90_wait_days(join_runs["join"]), p90_wait_days(join_runs["no_join"])
    assert joined < 7 < alone, (joined, alone)


def test_the_feed_says_the_data_is_simulated(tmp_path):
    from fastapi.testclient import TestClient

    from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
    from operational.clock import SystemClock
    from operational.domain.access import Role
    from operational.entrypoints.api import create_app
    from operational.service_layer import access

    engine = sqlite_engine(tmp_path / "feed.sqlite")
    simulate(engine, date(2024, 3, 1), date(2024, 3, 3), scale=0.01)
    secret = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), "r", Role.READER)
    client = TestClient(create_app(engine))
    page = client.get(
        "/api/v1/events", params={"limit": 1}, headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert page["simulation"] == {
        "seed": 7,
        "scale": 0.01,
        "start_date": "2024-03-01",
        "end_date": "2024-03-03",
        "last_finished_day": "2024-03-03",
        "scenario": "baseline",
    }


def test_ctrl_c_stops_after_the_current_day_and_resume_continues(tmp_path):
    """SIGINT during `bibbla simulate` finishes the day being simulated, writes it, and
    exits cleanly; `--resume` then carries on from the next day."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from bibbla.config import PROJECT_ROOT

    url = f"sqlite:///{tmp_path / 'interrupted.sqlite'}"
    command = [
        sys.executable,
        "-m",
        "bibbla.cli",
        "simulate",
        "--db",
        url,
        "--scale",
        "0.01",
        "--start",
        "2024-01-01",
        # Years more than the test lets it run, so that the signal lands mid-run however
        # fast the simulator has become (a single year at this scale once ended before
        # the half-second poll saw its fifth day).
        "--end",
        "2031-12-31",
        "--seed",
        "3",
    ]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"},
    )
    engine = create_database_engine(url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            with engine.connect() as c:
                day = c.execute(select(tables.simulation_run.c.last_finished_day)).scalar()
        except Exception:  # the database may not exist yet
            day = None
        if day is not None and day >= date(2024, 1, 5):
            break
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    assert "stopped after the current day" in output
    with engine.connect() as c:
        stopped_at = c.execute(select(tables.simulation_run.c.last_finished_day)).scalar_one()
    assert date(2024, 1, 5) <= stopped_at < date(2031, 12, 31)
    assert differences(engine) == [] and state_violations(engine) == []
    resumed = subprocess.run(
        [sys.executable, "-m", "bibbla.cli", "simulate", "--db", url, "--resume", "--days", "1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with engine.connect() as c:
        assert c.execute(
            select(tables.simulation_run.c.last_finished_day)
        ).scalar_one() == stopped_at + timedelta(days=1)
