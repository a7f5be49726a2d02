"""Scenarios: Degerfors, Karlskoga and Örebro (outside the consortium) joining in a
simulated membership timeline. Their libraries, cardholders and copies enter the lending core
on the join date and not before; from then on holds are filled across them and the old
members. The baseline (today's timeline, in which they never join) is the control: it has
none of their libraries, patrons or copies, and so no hold crosses to them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from operational.adapters import schema, tables
from operational.simulation.runner import run_days
from operational.simulation.simulator import Simulation
from tests.conftest import REFERENCE_DIR, local
from tests.operational.simulation_runs import sqlite_engine

OUTSIDE = ("1862", "1883", "1880")  # Degerfors, Karlskoga, Örebro
START, JOIN, END = date(2025, 5, 1), date(2025, 6, 16), date(2025, 7, 31)
SCALE = 0.01


def joining_timeline(folder: Path, joins_on: date) -> Path:
    """municipalities.csv in which the three outside municipalities join on joins_on."""
    with (REFERENCE_DIR / "municipalities.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows, fields = list(reader), reader.fieldnames or []
    for row in rows:
        if row["municipality_code"] in OUTSIDE:
            assert not row["consortium_joined_on"]  # outside today
            row["consortium_joined_on"] = joins_on.isoformat()
    target = folder / "municipalities-all-twelve.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return target


def run(engine: Engine, timeline: Path | None, start: date, end: date) -> Simulation:
    schema.init(engine, REFERENCE_DIR, timeline)
    simulation = Simulation.create(
        engine, REFERENCE_DIR, 11, SCALE, start, end, "scenario", progress=lambda _m: None
    )
    run_days(simulation, end)
    return simulation


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Engine]:
    """The same seed, scale and period with today's timeline and with all twelve."""
    folder = tmp_path_factory.mktemp("scenarios")
    engines = {}
    for name, timeline in (("baseline", None), ("all_twelve", joining_timeline(folder, JOIN))):
        engines[name] = sqlite_engine(folder / f"{name}.sqlite")
        run(engines[name], timeline, START, END)
    return engines


def holds_filled_across(engine: Engine) -> dict[str, int]:
    """Holds that became ready with a copy of another municipality, by direction: a copy of
    one of the three for a resident elsewhere ('from_outside'), and a copy owned elsewhere
    for a resident of one of the three ('to_outside')."""
    owner = tables.branch.alias("owner")
    with engine.connect() as c:
        rows = c.execute(
            select(owner.c.municipality_code, tables.patron.c.home_municipality_code)
            .select_from(
                tables.hold.join(tables.patron)
                .join(tables.item, tables.hold.c.item_id == tables.item.c.id)
                .join(owner, tables.item.c.home_branch_code == owner.c.code)
            )
            .where(
                tables.hold.c.ready_at.is_not(None),
                owner.c.municipality_code != tables.patron.c.home_municipality_code,
            )
        ).all()
    return {
        "from_outside": sum(1 for own, home in rows if own in OUTSIDE and home not in OUTSIDE),
        "to_outside": sum(1 for own, home in rows if home in OUTSIDE and own not in OUTSIDE),
        "among_members": sum(1 for own, home in rows if own not in OUTSIDE and home not in OUTSIDE),
    }


def test_joining_moves_holds_across_the_new_members(runs):
    across = holds_filled_across(runs["all_twelve"])
    assert across["from_outside"] > 0, across
    assert across["to_outside"] > 0, across


def test_the_baseline_has_no_outside_library_and_no_hold_crosses_to_them(runs):
    baseline = runs["baseline"]
    across = holds_filled_across(baseline)
    assert across["from_outside"] == across["to_outside"] == 0
    assert across["among_members"] > 0, "not a vacuous control: the members share holds"
    with baseline.connect() as c:
        municipalities = set(
            c.execute(
                select(tables.branch.c.municipality_code).where(tables.branch.c.kind != "hub")
            )
            .scalars()
            .all()
        )
        homes = set(c.execute(select(tables.patron.c.home_municipality_code).distinct()).scalars())
        branches = c.execute(select(func.count()).select_from(tables.branch)).scalar_one()
    assert municipalities.isdisjoint(OUTSIDE) and homes.isdisjoint(OUTSIDE)
    assert len(homes) == 9 and branches == 24  # today's lending core, as before scenarios


def test_outside_libraries_lend_nothing_before_their_join_date(runs):
    engine = runs["all_twelve"]
    owner = tables.branch.alias("owner")
    at = tables.branch.alias("at")
    joined = local(JOIN.year, JOIN.month, JOIN.day, 0)
    with engine.connect() as c:
        loans_at = c.execute(
            select(func.min(tables.loan.c.checked_out_at), func.count())
            .select_from(tables.loan.join(at, tables.loan.c.branch_code == at.c.code))
            .where(at.c.municipality_code.in_(OUTSIDE))
        ).one()
        loans_of = c.execute(
            select(func.min(tables.loan.c.checked_out_at))
            .select_from(
                tables.loan.join(tables.item, tables.loan.c.item_id == tables.item.c.id).join(
                    owner, tables.item.c.home_branch_code == owner.c.code
                )
            )
            .where(owner.c.municipality_code.in_(OUTSIDE))
        ).scalar_one()
        first_card = c.execute(
            select(func.min(tables.patron.c.registered_at)).where(
                tables.patron.c.home_municipality_code.in_(OUTSIDE)
            )
        ).scalar_one()
        first_copy = c.execute(
            select(func.min(tables.item.c.added_at))
            .select_from(tables.item.join(owner, tables.item.c.home_branch_code == owner.c.code))
            .where(owner.c.municipality_code.in_(OUTSIDE))
        ).scalar_one()
    assert loans_at[1] > 0, "they do lend once they have joined"
    for first in (loans_at[0], loans_of, first_card, first_copy):
        assert first >= joined


def test_a_run_resumed_after_the_join_keeps_the_joiners(tmp_path):
    engine = sqlite_engine(tmp_path / "resume.sqlite")
    timeline = joining_timeline(tmp_path, date(2025, 6, 3))
    first = run(engine, timeline, date(2025, 6, 1), date(2025, 6, 4))
    assert first.municipalities[-3:] == sorted(OUTSIDE)  # entered together, by code
    again = Simulation.resume(engine, REFERENCE_DIR)
    assert again.municipalities == first.municipalities
    assert set(OUTSIDE) <= set(again.params.activity_location)
    run_days(again, date(2025, 6, 6))
    assert again.last_finished_day == date(2025, 6, 6)
