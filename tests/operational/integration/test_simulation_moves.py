"""`bibbla simulate --collection-moves FILE --moves-on DATE` at a tiny scale: the moves are
made on that day through the lending core's move_copy, the feed records them, the state
still equals the replayed feed, and a rerun of the same seed is the baseline up to the
day of the moves."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from operational.adapters import schema, tables
from operational.domain import errors
from operational.simulation.collection_moves import CollectionMove, read_moves
from operational.simulation.runner import run_days
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR
from tests.operational.invariants import state_violations
from tests.operational.replay import differences
from tests.operational.simulation_runs import sqlite_engine

START, MOVES_ON, END = date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 8)
SEED, SCALE = 5, 0.01


def _run(path, moves=(), moves_on=None) -> Simulation:
    engine = sqlite_engine(path)
    schema.init(engine, REFERENCE_DIR)
    simulation = Simulation.create(
        engine,
        REFERENCE_DIR,
        SEED,
        SCALE,
        START,
        END,
        progress=lambda _message: None,
        collection_moves=moves,
        moves_on=moves_on,
    )
    run_days(simulation, END)
    return simulation


def _events(engine, before: date | None = None) -> list[tuple]:
    event = tables.circulation_event
    query = select(
        event.c.occurred_at, event.c.type, event.c.item_id, event.c.hold_id, event.c.branch_code
    ).order_by(event.c.id)
    with engine.connect() as c:
        rows = c.execute(query).all()
    return [tuple(r) for r in rows if before is None or r.occurred_at.date() < before]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moves")
    baseline = _run(folder / "baseline.sqlite")
    # Moves that can be made: titles with two or more copies at home in Lindesberg's main
    # library (none is added in the run's first week), one copy each to Nora (a member all along).
    with baseline.engine.connect() as c:
        homes = c.execute(
            select(tables.item.c.title_id).where(tables.item.c.home_branch_code == "LIND")
        ).scalars()
        titles = sorted(t for t, n in Counter(homes).items() if n >= 2)[:5]
    moves = [CollectionMove(t, "LIND", "NORA", 1) for t in titles]
    rerun = _run(folder / "rerun.sqlite", moves, MOVES_ON)
    return baseline, rerun, moves


def test_the_moves_are_made_on_their_day_through_the_lending_core(runs):
    _, rerun, moves = runs
    done = rerun.moves_done
    assert len(moves) == 5 and done.asked == 5
    assert done.moved + done.missing == done.asked and done.moved >= 3
    event = tables.circulation_event
    with rerun.engine.connect() as c:
        rehomed = c.execute(select(event).where(event.c.type == "item_rehomed")).all()
        moved_items = {r.item_id for r in rehomed}
        homes = c.execute(
            select(tables.item.c.id, tables.item.c.home_branch_code).where(
                tables.item.c.id.in_(moved_items)
            )
        ).all()
    assert len(rehomed) == done.moved
    assert {r.occurred_at.date() for r in rehomed} == {MOVES_ON}
    assert {(r.from_branch_code, r.to_branch_code) for r in rehomed} == {("LIND", "NORA")}
    assert {r.title_id for r in rehomed} <= {m.title_id for m in moves}
    assert {home for _, home in homes} == {"NORA"}
    with rerun.engine.connect() as c:
        travelled = c.execute(
            select(event.c.item_id).where(
                event.c.type == "transport_requested",
                event.c.reason.in_(("rebalance", "hold")),
                event.c.item_id.in_(moved_items),
            )
        ).scalars()
        assert set(travelled) == moved_items  # each went with the van (or to a hold)
    assert rerun.params.moves_on == MOVES_ON.isoformat()
    assert rerun.params.collection_moves == [m.to_json() for m in moves]


def test_the_state_equals_the_replayed_feed(runs):
    _, rerun, _ = runs
    assert differences(rerun.engine) == []
    assert state_violations(rerun.engine) == []


def test_same_seed_same_run_until_the_moves(runs):
    baseline, rerun, _ = runs
    assert _events(baseline.engine, MOVES_ON) == _events(rerun.engine, MOVES_ON)
    assert _events(baseline.engine) != _events(rerun.engine)
    assert baseline.moves_done is None


def test_moves_outside_the_run_are_refused(tmp_path):
    engine = sqlite_engine(tmp_path / "db.sqlite")
    schema.init(engine, REFERENCE_DIR)
    move = CollectionMove(1, "LIND", "NORA", 1)
    with pytest.raises(errors.InvalidRequest, match="within the run"):
        Simulation.create(
            engine,
            REFERENCE_DIR,
            SEED,
            SCALE,
            START,
            END,
            collection_moves=[move],
            moves_on=date(2024, 4, 1),
        )
    with pytest.raises(errors.NotFound, match="NOWHERE"):
        Simulation.create(
            engine,
            REFERENCE_DIR,
            SEED,
            SCALE,
            START,
            END,
            collection_moves=[CollectionMove(1, "NOWHERE", "NORA", 1)],
            moves_on=START,
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title_id,from_branch_code,copies\n1,LIND,1\n", "lacks the column"),
        ("title_id,from_branch_code,to_branch_code,copies\nx,LIND,NORA,1\n", "line 2"),
        ("title_id,from_branch_code,to_branch_code,copies\n1,LIND,NORA,0\n", "at least 1"),
        ("title_id,from_branch_code,to_branch_code,copies\n1,LIND,LIND,2\n", "two different"),
    ],
)
def test_a_bad_moves_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "moves.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(errors.InvalidRequest, match=message):
        read_moves(path)
    with pytest.raises(errors.InvalidRequest, match="cannot read"):
        read_moves(tmp_path / "missing.csv")


def test_a_good_moves_file(tmp_path):
    path = tmp_path / "moves.csv"
    path.write_text(
        "advice_rank,title_id,from_branch_code,to_branch_code,copies\n1,17,LIND,NORA,2\n",
        encoding="utf-8",
    )
    assert read_moves(path) == [CollectionMove(17, "LIND", "NORA", 2)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--collection-moves", "moves.csv"], "go together"),
        (["--moves-on", "2024-03-04"], "go together"),
        (["--collection-moves", "missing.csv", "--moves-on", "2024-03-04"], "cannot read"),
        (["--resume", "--moves-on", "2024-03-04"], "started with"),
    ],
)
def test_the_simulate_options_say_what_is_wrong(tmp_path, monkeypatch, arguments, message):
    from typer.testing import CliRunner

    from bibbla.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "moves.csv").write_text(
        "title_id,from_branch_code,to_branch_code,copies\n1,LIND,NORA,1\n", encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = CliRunner().invoke(app, ["simulate", "--db", url, *arguments])
    assert result.exit_code == 1
    assert message in result.output
