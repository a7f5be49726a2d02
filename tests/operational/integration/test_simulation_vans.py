"""Vans run on their days: four simulated weeks across Christmas and New Year at a small
scale (SQLite, the simulator's real run through the service layer), and every transport
in them checked against the van routes of `reference/van_routes.csv`.

The model (operational/simulation/simulator.py, `_dispatch_vans` and `_plan_arrival`):
the day's van runs leave at VAN_LEAVES_AT (18:30) on a van day of the route that is not a
holiday and take every item requested before they leave. Via Örebro's hub (Monday,
Wednesday, Friday) an item goes to the hub on its dispatch day and onward with the next
hub van day's round, arriving at 08:00 that day: two van days, two to three calendar days
in an ordinary week. The direct Nora–Lindesberg van (every weekday) goes straight to the
other library, arriving at 08:00 on the next weekday. Within a municipality the item goes
with the local run on every working day (not a county route: not in van_routes.csv). With
probability MISSED_VAN an item misses its van and arrives with the route's next one; with
probability LOST_IN_TRANSIT it never arrives (the lending core marks it lost after 30 days,
beyond this run). Both draws are fixed by seed and transport id, so the test knows which
transports they picked.

The period holds six holidays (24, 25, 26 and 31 December, 1 and 6 January), all on
weekdays (van days of the direct and the local runs), three of them (25 December, 1 and 6
January) on hub van days.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from operational.adapters import tables
from operational.clock import local_date
from operational.domain.model import TransportRoute
from operational.simulation import calendar
from operational.simulation.behaviour import LOST_IN_TRANSIT, MISSED_VAN, VAN_LEAVES_AT
from operational.simulation.calendar import at
from operational.simulation.randomness import unit
from tests.conftest import REFERENCE_DIR
from tests.operational.simulation_runs import simulate, sqlite_engine

pytestmark = pytest.mark.slow

START, END = date(2024, 12, 16), date(2025, 1, 12)  # Monday to Sunday, four weeks
SEED, SCALE = 7, 0.1
HOLIDAYS = {date(2024, 12, d) for d in (24, 25, 26, 31)} | {date(2025, 1, 1), date(2025, 1, 6)}
LOCAL_DAYS = "12345"  # a municipality's own run, every working day
ARRIVES_AT = 8.0  # local hour


@dataclass
class Routes:
    hub_days: str
    direct_days: str
    direct_pairs: set[frozenset[str]]

    def days(self, route: str) -> str:
        return {"hub": self.hub_days, "direct": self.direct_days, "local": LOCAL_DAYS}[route]

    def route_between(self, municipality_a: str, municipality_b: str) -> str:
        if municipality_a == municipality_b:
            return "local"
        return "direct" if {municipality_a, municipality_b} in self.direct_pairs else "hub"


def read_routes() -> Routes:
    with (REFERENCE_DIR / "van_routes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    (hub,) = [r for r in rows if r["route"] == "hub"]
    direct = [r for r in rows if r["route"] == "direct"]
    assert len({r["weekdays"] for r in direct}) == 1, "one timetable for the direct routes"
    return Routes(
        hub_days=hub["weekdays"],
        direct_days=direct[0]["weekdays"],
        direct_pairs={frozenset((r["municipality_a"], r["municipality_b"])) for r in direct},
    )


def van_days_after(day: date, weekdays: str, inclusive: bool = False) -> Iterator[date]:
    """The route's van days after `day` (from it, when inclusive), holidays left out."""
    current = day if inclusive else day + timedelta(days=1)
    while True:
        if str(current.isoweekday()) in weekdays and current not in HOLIDAYS:
            yield current
        current += timedelta(days=1)


def first_run(transport, weekdays: str) -> date:
    """The first van run a transport can take: on its request day if it was requested
    before the van left, else on a later van day."""
    requested = local_date(transport.requested_at)
    for day in van_days_after(requested, weekdays, inclusive=True):
        if transport.requested_at <= at(day, VAN_LEAVES_AT):
            return day
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("vans") / "vans.sqlite")
    simulation = simulate(engine, START, END, seed=SEED, scale=SCALE)
    source, target = tables.branch.alias("source"), tables.branch.alias("target")
    with engine.connect() as c:
        transports = c.execute(
            select(
                tables.transport,
                source.c.municipality_code.label("from_municipality"),
                target.c.municipality_code.label("to_municipality"),
            )
            .select_from(
                tables.transport.join(
                    source, tables.transport.c.from_branch_code == source.c.code
                ).join(target, tables.transport.c.to_branch_code == target.c.code)
            )
            .order_by(tables.transport.c.id)
        ).all()
        events = c.execute(
            select(tables.circulation_event).where(
                tables.circulation_event.c.type.in_(
                    ["transport_requested", "transport_dispatched", "transport_received"]
                )
            )
        ).all()
    engine.dispose()
    return simulation, transports, events


def test_the_period_has_holidays_on_van_days():
    routes = read_routes()
    assert {d for d in HOLIDAYS if calendar.is_holiday(d)} == HOLIDAYS
    assert not [
        d
        for d in (START + timedelta(days=n) for n in range((END - START).days + 1))
        if calendar.is_holiday(d) and d not in HOLIDAYS
    ]
    on_hub_days = {d for d in HOLIDAYS if str(d.isoweekday()) in routes.hub_days}
    assert on_hub_days == {date(2024, 12, 25), date(2025, 1, 1), date(2025, 1, 6)}


def test_the_lending_core_knows_the_reference_timetable(run):
    simulation = run[0]
    routes, consortium = read_routes(), simulation.consortium
    assert consortium.van_days(TransportRoute.HUB) == routes.hub_days == "135"
    assert consortium.van_days(TransportRoute.DIRECT) == routes.direct_days == "12345"
    assert consortium.direct_routes == routes.direct_pairs == {frozenset(("1884", "1885"))}
    for route in TransportRoute:
        assert consortium.van_days(route) == routes.days(str(route))


def test_every_transport_takes_the_route_between_its_municipalities(run):
    _, transports, _ = run
    routes = read_routes()
    for t in transports:
        assert t.route == routes.route_between(t.from_municipality, t.to_municipality), t
    kinds = Counter(str(t.route) for t in transports)
    assert kinds["hub"] >= 30 and kinds["direct"] >= 30 and kinds["local"] >= 30, kinds


def test_vans_run_only_on_van_days_of_their_route_and_never_on_holidays(run):
    _, transports, events = run
    routes = read_routes()
    dispatched = [t for t in transports if t.dispatched_at is not None]
    assert len(dispatched) > 0.8 * len(transports)
    for t in dispatched:
        day = local_date(t.dispatched_at)
        assert str(day.isoweekday()) in routes.days(t.route), (t, day)
        assert day not in HOLIDAYS, (t, day)
        assert t.dispatched_at == at(day, VAN_LEAVES_AT), t  # 18:30
    # The feed says the same: one transport_dispatched event per dispatch, from its branch.
    feed = {e.transport_id: e for e in events if e.type == "transport_dispatched"}
    assert len(feed) == len([e for e in events if e.type == "transport_dispatched"])
    assert set(feed) == {t.id for t in dispatched}
    for t in dispatched:
        event = feed[t.id]
        assert event.occurred_at == t.dispatched_at
        assert event.branch_code == t.from_branch_code
        assert event.details["route"] == t.route


def test_an_item_goes_with_the_first_van_after_it_was_requested(run):
    _, transports, _ = run
    routes = read_routes()
    waited_past_the_van = 0
    for t in transports:
        first = first_run(t, routes.days(t.route))
        if t.dispatched_at is None:
            assert first > END, t  # requested after the period's last run of its route
            continue
        assert t.requested_at <= t.dispatched_at, t
        assert local_date(t.dispatched_at) == first, t
        waited_past_the_van += first > local_date(t.requested_at)
    assert waited_past_the_van > 0  # some were requested after the day's van, or on a day off


def test_transit_follows_the_route(run):
    """Hub: onward with the next hub van day's round (two van days); direct and local:
    straight to the other library on the next van day of the route. A missed van adds one
    van day of the route; a lost item never arrives."""
    simulation, transports, _ = run
    routes = read_routes()
    missed, calendar_days = [], {"hub": [], "direct": []}
    for t in (t for t in transports if t.dispatched_at is not None):
        sent = local_date(t.dispatched_at)
        runs = van_days_after(sent, routes.days(t.route))
        onward, after_a_missed_van = next(runs), next(runs)
        misses = unit(simulation.seed, "missed-van", t.id) < MISSED_VAN
        due = after_a_missed_van if misses else onward
        if unit(simulation.seed, "lost", t.id) < LOST_IN_TRANSIT or due > END:
            assert t.received_at is None and t.lost_at is None, t
            continue
        assert t.received_at is not None, t
        assert t.received_at == at(due, ARRIVES_AT), (t, sent, due)
        missed.append(misses)
        ordinary_week = not HOLIDAYS & {sent + timedelta(days=n) for n in (1, 2, 3)}
        if not misses and ordinary_week and t.route in calendar_days:
            calendar_days[t.route].append((due - sent).days)
    # In ordinary weeks: via the hub Mon→Wed, Wed→Fri (2 days), Fri→Mon (3); direct the
    # next weekday (1 day, Fri→Mon 3).
    assert set(calendar_days["hub"]) <= {2, 3} and set(calendar_days["direct"]) <= {1, 3}
    assert statistics.mean(calendar_days["hub"]) > statistics.mean(calendar_days["direct"])
    # The deliberate missed vans: about one in ten (binomial, four standard deviations).
    n, share = len(missed), sum(missed) / len(missed)
    assert n > 300
    assert abs(share - MISSED_VAN) < 4 * (MISSED_VAN * (1 - MISSED_VAN) / n) ** 0.5, share


def test_the_feed_records_each_arrival_at_the_destination(run):
    _, transports, events = run
    received = {e.transport_id: e for e in events if e.type == "transport_received"}
    assert set(received) == {t.id for t in transports if t.received_at is not None}
    for t in transports:
        if t.received_at is not None:
            assert received[t.id].occurred_at == t.received_at
            assert received[t.id].branch_code == t.to_branch_code
