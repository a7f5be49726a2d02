"""The collection balancing advice outside the warehouse (warehouse/advice.py): the moves
file for `bibbla simulate --collection-moves`, and the check of the advice's expected
saving against a rerun, on small warehouses made by hand (figures worked out below)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from operational.simulation.collection_moves import CollectionMove, read_moves
from warehouse.advice import MOVES_COLUMNS, AdviceError, check_advice, export_advice

MOVES_ON = date(2025, 7, 1)


def _warehouse(path: Path, holds: list[tuple], transports: list[tuple], rehomed: int) -> Path:
    """A warehouse with the tables check_advice reads: holds (hold_id, title_id,
    placed_date, became_ready, wait_days), hold transports (transport_id, hold_id)."""
    with duckdb.connect(str(path)) as c:
        c.execute("create schema intermediate")
        c.execute(
            "create table main.fct_holds (hold_id bigint, title_id bigint, placed_date date, "
            "became_ready boolean, wait_days double)"
        )
        c.executemany("insert into main.fct_holds values (?, ?, ?, ?, ?)", holds)
        c.execute(
            "create table main.fct_transports (transport_id bigint, hold_id bigint, "
            "transport_reason varchar)"
        )
        for row in transports:
            c.execute("insert into main.fct_transports values (?, ?, 'hold')", row)
        c.execute(
            "create table intermediate.int_data_provenance as "
            "select date '2025-09-11' as last_event_date"
        )
        c.execute("create table intermediate.int_item_rehomings (event_id bigint)")
        for event_id in range(rehomed):
            c.execute("insert into intermediate.int_item_rehomings values (?)", [event_id])
        c.execute(
            "create table main.mart_collection_advice as select * from (values "
            "(2, 1, 'LIND', 'NORA', 2, 50.0, 3.0), (1, 2, 'KUM', 'LAXA', 1, 23.0, 1.0)) "
            "as t(advice_rank, title_id, from_branch_code, to_branch_code, copies, "
            "expected_wait_days_saved, expected_transports_saved)"
        )
    return path


@pytest.fixture
def runs(tmp_path):
    # Holds on the moved titles 1 and 2 placed from 2025-07-01: baseline waits 5, 3 and 4
    # (12 days, 3 holds, 2 by van); one before the moves, one on title 3 and one never
    # ready do not count. Rerun: waits 0 and 1 (1 day), none by van; 3 copies moved.
    baseline = _warehouse(
        tmp_path / "baseline.duckdb",
        [
            (1, 1, date(2025, 7, 2), True, 5.0),
            (2, 1, date(2025, 8, 1), True, 3.0),
            (3, 2, date(2025, 9, 11), True, 4.0),
            (4, 1, date(2025, 6, 30), True, 9.0),
            (5, 3, date(2025, 7, 5), True, 9.0),
            (6, 2, date(2025, 7, 5), False, None),
        ],
        [(1, 1), (2, 3), (3, 4)],
        rehomed=0,
    )
    rerun = _warehouse(
        tmp_path / "rerun.duckdb",
        [(1, 1, date(2025, 7, 2), True, 0.0), (2, 2, date(2025, 8, 3), True, 1.0)],
        [],
        rehomed=3,
    )
    moves = tmp_path / "moves.csv"
    assert export_advice(baseline, moves) == 2
    return baseline, rerun, moves


def test_the_moves_file_is_what_simulate_reads(runs):
    _, _, moves = runs
    header = moves.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(MOVES_COLUMNS)
    # best first, and readable by `bibbla simulate --collection-moves`
    assert read_moves(moves) == [
        CollectionMove(2, "KUM", "LAXA", 1),
        CollectionMove(1, "LIND", "NORA", 2),
    ]


def test_only_the_best_moves(runs, tmp_path):
    baseline, _, _ = runs
    assert export_advice(baseline, tmp_path / "top.csv", top=1) == 1
    assert read_moves(tmp_path / "top.csv") == [CollectionMove(2, "KUM", "LAXA", 1)]


def test_predicted_against_simulated(runs):
    baseline, rerun, moves = runs
    check = check_advice(baseline, rerun, moves, MOVES_ON)
    # 2025-07-01 to 2025-09-11 (the runs' end): 73 days, a fifth of a year
    assert check.until == date(2025, 9, 11)
    assert check.predicted_wait_days_saved == pytest.approx((50 + 23) * 73 / 365)  # 14.6
    assert (check.baseline_holds, check.baseline_wait_days) == (3, 12.0)
    assert (check.rerun_holds, check.rerun_wait_days) == (2, 1.0)
    assert check.simulated_wait_days_saved == 11.0
    assert check.ratio == pytest.approx(11 / 14.6)
    assert (check.baseline_hold_transports, check.rerun_hold_transports) == (2, 0)
    assert check.predicted_transports_saved == pytest.approx(4 * 0.2)
    assert (check.moves, check.copies, check.copies_moved, check.titles) == (2, 3, 3, 2)
    assert "ratio simulated/predicted 0.75" in "\n".join(check.lines())
    # the control, title 3: 9 days over 1 hold in the baseline, none in the rerun
    assert (check.control_baseline_holds, check.control_baseline_wait_days) == (1, 9.0)
    assert check.control_rerun_wait_days == 0.0 and check.control_change_per_hold == 9.0
    # a shorter comparison
    short = check_advice(baseline, rerun, moves, MOVES_ON, until=date(2025, 7, 31))
    assert (short.baseline_holds, short.rerun_holds) == (1, 1)
    assert short.simulated_wait_days_saved == 5.0


def test_clear_errors(runs, tmp_path):
    baseline, rerun, moves = runs
    with pytest.raises(AdviceError, match="no warehouse"):
        export_advice(tmp_path / "none.duckdb", moves)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(AdviceError, match="has no mart_collection_advice"):
        export_advice(empty, tmp_path / "x.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("title_id,copies\n1,1\n", encoding="utf-8")
    with pytest.raises(AdviceError, match="lacks the column"):
        check_advice(baseline, rerun, bad, MOVES_ON)
    with pytest.raises(AdviceError, match="before the moves"):
        check_advice(baseline, rerun, moves, date(2025, 10, 1))
