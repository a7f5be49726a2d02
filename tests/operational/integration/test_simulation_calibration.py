"""Calibration, tested: a twenty-week run at a fifth of the population (SQLite), every
municipality's loans per capita and active-borrower share held against
`reference/simulation_calibration.csv` through the simulator's own calibration table
(operational/simulation/report.py), so a change that breaks the realism fails here.

The period, 8 January to 26 May 2024, is a part year: the table compares it with the
targets scaled as the report does, loans per capita by the share of the year's visits the
days cover (the monthly and weekday visit factors: 40 % here, for 38 % of the days) and
the active share by what the same visit rates give over that time (fewer people borrow at
least once in twenty weeks than in a year). The period keeps clear of the holidays
(closed libraries) and of June-August, when summer readers take up to 30 % more items per
visit (calendar.ITEMS_FACTOR), which the share of visits does not count; and 2024 is
before the five join.

The tolerance, per municipality and measure, is the larger of the ±10 % the README
promises at full scale (report.TOLERANCE) and 4.5 standard deviations of this run's own
sampling noise (`sampling_noise`: visits are Poisson at each cardholder's rate, a visit
takes 1 + Poisson(m − 1) items, m about seven; borrowing at least once is a Bernoulli draw
per cardholder). At a fifth of the population the smallest municipalities have some 220
visits in twenty weeks (Laxå, Ljusnarsberg), so their loans wander by ±7 %; Kumla and
Lindesberg (1 200-1 400 visits) by ±3 %. Measured over seeds 1-12 of this very set-up, the
deviations divided by that noise had a standard deviation of 1.11 (loans) and 1.01
(active), means of −0.37 and +0.36 (visits that end without a loan pull loans a little
low) and at most 3.4 and 3.0 in absolute value (108 values each); the largest deviations
were 14 % (Lekeberg's loans) and 17 % (Ljusnarsberg's active share). 4.5 standard
deviations leave roughly a one-in-a-thousand chance that noise alone trips one of the 18
checks (the run is deterministic: that is the chance that an unrelated change of the
random streams does). The bands come out at 11-17 % for the five larger municipalities
and 20-33 % for the four smallest: a target missed by a half fails everywhere, one missed
by a sixth in Lindesberg, Kumla or Hallsberg (12-15 %); a drift of a few per cent does
not, which is what the full-scale check (`python -m benchmarks.calibration`, in `make
bench-full`) is for.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from operational.simulation.calibration import load_targets
from operational.simulation.report import TOLERANCE, CalibrationRow, calibration_table
from tests.conftest import REFERENCE_DIR
from tests.operational.simulation_runs import simulate, sqlite_engine

pytestmark = pytest.mark.slow

START, END = date(2024, 1, 8), date(2024, 5, 26)
SEED, SCALE = 42, 0.2
STANDARD_DEVIATIONS = 4.5


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("calibration") / "calibration.sqlite")
    simulation = simulate(engine, START, END, seed=SEED, scale=SCALE)
    rows = calibration_table(simulation)
    yield simulation, rows
    engine.dispose()


def sampling_noise(simulation, row: CalibrationRow) -> dict[str, float]:
    """The relative standard deviations of a municipality's loans and active borrowers over
    the run: visits Poisson at each cardholder's rate for the share of the year, items per
    visit 1 + Poisson(m − 1) (variance of a visit's loans m² + m − 1), and each cardholder
    borrowing at least once with probability 1 − e^(−visits)."""
    index = simulation.municipalities.index(row.municipality_code)
    visits = simulation.patron_rate[simulation.patron_muni == index] * row.share_of_year
    m = simulation.params.items_per_visit[row.municipality_code]
    borrows = 1 - np.exp(-visits)
    return {
        "loans_per_capita": math.sqrt((m * m + m - 1) / float(visits.sum())) / m,
        "active_borrower_share": math.sqrt(float((borrows * (1 - borrows)).sum()))
        / float(borrows.sum()),
    }


def tolerance(simulation, row: CalibrationRow, measure: str) -> float:
    return max(TOLERANCE, STANDARD_DEVIATIONS * sampling_noise(simulation, row)[measure])


def test_the_table_covers_every_municipality_of_the_reference(run):
    _, rows = run
    targets = load_targets(REFERENCE_DIR)
    # the three outside municipalities (enters=join) are simulated only in a scenario
    # that has them join
    members = [code for code, target in targets.items() if target.enters == "start"]
    assert len(members) == 9
    assert sorted(r.municipality_code for r in rows) == sorted(members)
    for r in rows:
        assert r.year == 2024
        assert 0.35 < r.share_of_year < 0.41  # twenty weeks, January to May
        assert r.loans_target == pytest.approx(
            targets[r.municipality_code].loans_per_capita * r.share_of_year
        )


@pytest.mark.parametrize("measure", ["loans_per_capita", "active_borrower_share"])
def test_every_municipality_is_within_tolerance_of_its_target(run, measure):
    simulation, rows = run
    off = []
    for r in rows:
        deviation, allowed = r.deviations[measure], tolerance(simulation, r, measure)
        if abs(deviation) > allowed:
            off.append(f"{r.municipality_name}: {deviation:+.1%} (tolerance ±{allowed:.1%})")
    assert not off, f"{measure} off target: " + "; ".join(off)


def test_stock_per_capita_is_bought_to_target(run):
    """Stock is bought to the target on the first day and kept level (acquisitions and
    weeding 0.7 % a month each): not a sample, so the README's ±10 % holds at any scale."""
    _, rows = run
    assert all(abs(r.deviations["stock_per_capita"]) <= TOLERANCE for r in rows)
