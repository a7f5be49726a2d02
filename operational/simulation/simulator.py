"""The day-by-day simulation: residents visit their libraries, borrow, return, renew and
reserve; the van moves items; the catalogue grows and is weeded. Every change goes through
the lending core's use cases (operational.service_layer.services) on a simulated clock;
the simulator only decides what people and vans do, never what the rules allow.

Membership drives the results through the rules alone: before a municipality joins, its
residents may use only its own branches and copies; from the join date the use cases let
them reach every member's copies. A municipality outside the consortium (calibration
`enters=join`: Degerfors, Karlskoga, Örebro) has its own library system until it joins, so
it enters the lending core only on a join date in the scenario's membership timeline: its
residents get cards, its libraries copies, on that day and not before (`_admit`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from operational.adapters.batch import BatchUnitOfWork, MemoryState
from operational.adapters.batch_writer import BackgroundWriter, can_run_in_background
from operational.adapters.simulation_runs import SimulationRuns
from operational.clock import SimulatedClock, local_date
from operational.domain import errors
from operational.domain.model import PatronCategory
from operational.service_layer import services
from operational.simulation import calendar
from operational.simulation.agenda import Agenda
from operational.simulation.behaviour import (
    LOSS_ALLOWANCE,
    NEW_TITLES_ON_JOINING,
    TITLES_PER_ITEM,
    VAN_LEAVES_AT,
)
from operational.simulation.calendar import at
from operational.simulation.calibration import CHILD_BAND, Population, Target, load_targets
from operational.simulation.collection_moves import CollectionMove, MovesDone, copies_to_move
from operational.simulation.collector import rare_collections
from operational.simulation.patrons import (
    MEAN_MEMBERSHIP_YEARS,
    PeopleFactory,
    activity_z,
    leaves_on,
    solve_activity_location,
    visits_per_year,
)
from operational.simulation.randomness import day_rng, weighted_choice
from operational.simulation.stock import Stock
from operational.simulation.vans import Vans
from operational.simulation.visits import Visits

log = logging.getLogger(__name__)


@dataclass
class Parameters:
    """A simulation run's parameters; stored with the data (simulation_run.parameters)."""

    seed: int
    scale: float
    start: date
    end: date
    scenario: str = "baseline"
    catalogue_size: int = 0
    activity_location: dict[str, float] = field(default_factory=dict)
    items_per_visit: dict[str, float] = field(default_factory=dict)
    # Collection-balancing moves made on one day (collection_moves.py): the advice a rerun
    # of the same seed checks; empty in an ordinary run.
    collection_moves: list[dict] = field(default_factory=list)
    moves_on: str | None = None

    def to_json(self) -> dict:
        values = asdict(self)
        values["start"], values["end"] = self.start.isoformat(), self.end.isoformat()
        return values

    @classmethod
    def from_json(cls, values: dict) -> Parameters:
        values = dict(values)
        values["start"] = date.fromisoformat(values["start"])
        values["end"] = date.fromisoformat(values["end"])
        return cls(**values)


@dataclass
class DayReport:
    day: date
    events: int
    loans: int
    holds: int
    refusals: int


class Simulation(Agenda, Visits, Vans, Stock):
    """A simulation bound to one lending-core database. Its concerns are split by module:
    the agenda (agenda.py), residents' visits (visits.py), the vans (vans.py) and the
    collection (stock.py); this class sets up, populates and runs the days."""

    def __init__(
        self,
        engine: Engine,
        reference_dir: Path,
        parameters: Parameters,
        *,
        run_id: int | None = None,
        last_finished_day: date | None = None,
    ):
        self.engine = engine
        self.runs = SimulationRuns(engine)
        self.params = parameters
        self.seed = parameters.seed
        self.run_id = run_id
        self.last_finished_day = last_finished_day
        self.targets: dict[str, Target] = load_targets(reference_dir)
        self.population = Population.load(reference_dir)
        self.people = PeopleFactory(self.seed)
        # The day's writes go to a writer process, which stores one day while this
        # process simulates the next (adapters/batch_writer.py).
        writer = BackgroundWriter(engine) if can_run_in_background(engine) else None
        with rare_collections():  # loaded once and kept: nothing for the collector
            self.state = MemoryState(engine, writer)
        self.uow = BatchUnitOfWork(self.state)
        self.clock = SimulatedClock(at(parameters.start, 6))
        self.consortium = self.state.consortium
        self._branch_setup()
        # The municipalities simulated from the first day, then those that entered on
        # their join date, in the order they entered (their patrons' index in patron_muni).
        self.municipalities = sorted(m for m, t in self.targets.items() if t.enters == "start")
        self.joining = self._join_dates()
        for code in sorted(self.joining, key=lambda c: (self.joining[c], c)):
            if last_finished_day is not None and self.joining[code] <= last_finished_day:
                self.municipalities.append(code)
        self._parameters_changed = False
        self._agenda: dict[date, list[tuple[str, int]]] = defaultdict(list)
        self._refused_renewal: set[int] = set()
        self._visit_norm: dict[tuple[str, int], float] = {}
        self._nearby_day: date | None = None
        self._nearby: dict[tuple[str, str], tuple[list, list, float]] = {}
        self._title_weights: dict[int, float] = {}  # fixed by seed and id: kept
        self.moves_done: MovesDone | None = None  # set on the day the moves are made

    def _branch_setup(self) -> None:
        self.lending_branches = [b for b in self.state.branches.values() if b.lends]
        self.branches_of: dict[str, list] = defaultdict(list)
        for branch in self.lending_branches:
            self.branches_of[branch.municipality_code].append(branch)
        self.branch_weight = {
            b.code: b.staffed_hours_per_week + 0.3 * b.staffless_hours_per_week + 1
            for b in self.lending_branches
        }
        # Added up once, not on every draw of a home branch for a patron or a copy
        # (choices() with plain weights adds them up each call; the draw is the same).
        self.branch_cumulative_weight = {
            municipality: list(accumulate(self.branch_weight[b.code] for b in branches))
            for municipality, branches in self.branches_of.items()
        }
        self.shelf: dict[str, list] = defaultdict(list)  # items by home branch, for browsing
        for item in self.state.items.values():
            self.shelf[item.home_branch_code].append(item)

    def _join_dates(self) -> dict[str, date]:
        """The day each outside municipality (enters=join) enters this run: its first join
        date in the membership timeline, or the first simulated day if it joined before.
        Without a join date up to the last day it is not simulated at all."""
        dates = {}
        for code, target in self.targets.items():
            if target.enters != "join":
                continue
            joined = [
                m.joined_on for m in self.consortium.memberships if m.municipality_code == code
            ]
            if not joined or min(joined) > self.params.end:
                continue
            if not self.branches_of.get(code):
                raise ValueError(
                    f"municipality {code} ({target.municipality_name}) joins in the membership "
                    "timeline but the reference data gives it no lending library "
                    "(reference/scenario_branches.csv)"
                )
            dates[code] = max(min(joined), self.params.start)
        return dates

    @classmethod
    def create(
        cls,
        engine: Engine,
        reference_dir: Path,
        seed: int,
        scale: float,
        start: date,
        end: date,
        scenario: str = "baseline",
        progress: Callable[[str], None] = print,
        *,
        collection_moves: Sequence[CollectionMove] = (),
        moves_on: date | None = None,
    ) -> Simulation:
        """Start a new simulation on an initialised database without circulation; the
        collection moves, if any, are made early on the day moves_on (within the run)."""
        runs = SimulationRuns(engine)
        if runs.any():
            raise errors.Conflict("this database already holds a simulation; use --resume")
        if runs.circulation_exists():
            raise errors.Conflict(
                "this database already has circulation; simulate into a new database "
                "(bibbla db init --reset)"
            )
        if collection_moves and (moves_on is None or not start <= moves_on <= end):
            raise errors.InvalidRequest(
                f"the day of the collection moves ({moves_on}) must be within the run "
                f"({start} to {end})",
                field="moves_on",
            )
        parameters = Parameters(seed, scale, start, end, scenario)
        parameters.collection_moves = [move.to_json() for move in collection_moves]
        parameters.moves_on = moves_on.isoformat() if collection_moves else None
        simulation = cls(engine, reference_dir, parameters)
        for move in collection_moves:  # unknown branches: said now, not on the day
            simulation.consortium.lending_branch(move.from_branch_code, field="from_branch_code")
            simulation.consortium.lending_branch(move.to_branch_code, field="to_branch_code")
        with rare_collections():  # the consortium's first state is kept, not garbage
            simulation._populate(progress)
        return simulation

    @classmethod
    def resume(cls, engine: Engine, reference_dir: Path) -> Simulation:
        run = SimulationRuns(engine).latest()
        if run is None:
            raise errors.NotFound("this database holds no simulation to resume")
        simulation = cls(
            engine,
            reference_dir,
            Parameters.from_json(run.parameters),
            run_id=run.id,
            last_finished_day=run.last_finished_day,
        )
        simulation._rebuild_agenda()
        simulation._load_patron_activity()
        simulation._rebuild_sampler()
        return simulation

    def _populate(self, progress: Callable[[str], None]) -> None:
        """The consortium on the first day: cardholders, the catalogue, every copy."""
        day = self.params.start
        rng = day_rng(self.seed, day, "populate")
        self.clock.set(at(day, 5))
        year = day.year
        scale = self.params.scale
        stock = {
            m: round(t.stock_per_capita * scale * self.population.total(m, year))
            for m, t in self.targets.items()
            if m in self.municipalities
        }
        catalogue_size = max(50, round(TITLES_PER_ITEM * sum(stock.values())))
        self.params.catalogue_size = catalogue_size
        progress(f"catalogue: {catalogue_size} titles, {sum(stock.values())} items")
        title_ids = self._add_titles(rng, catalogue_size, year)
        self._add_copies(rng, title_ids, stock)
        progress("cardholders")
        for municipality in self.municipalities:
            target = self.targets[municipality]
            bands = self.population.age_bands(municipality, year)
            total = sum(bands.values())
            cardholders = round(target.registered_share * scale * total)
            for band, count in bands.items():
                for _ in range(round(cardholders * count / total)):
                    self._register(rng, municipality, band, day)
        self._calibrate_activity(year)
        self._rebuild_sampler()
        events = self.uow.flush()
        # The catalogue and cardholders are stored, and the writer process stopped (the
        # first simulated day starts it again), before the run's row is: a simulation
        # created but never run leaves no other process with the database open.
        self.state.close()
        self.run_id = self.runs.add(
            self.seed,
            scale,
            self.params.start,
            self.params.end,
            self.params.scenario,
            self.params.to_json(),
        )
        progress(f"populated: {events} events")

    def _register(self, rng, municipality: str, band: str, day: date):
        branches = self.branches_of[municipality]
        home = weighted_choice(rng, branches, self.branch_cumulative_weight[municipality])
        person = self.people.person(rng, band, day)
        card = f"{municipality}-{len(self.state.patrons) + 1:07d}"
        return services.register_patron(
            self.uow,
            self.clock,
            card,
            municipality,
            PatronCategory.CHILD if band == CHILD_BAND else PatronCategory.ADULT,
            home_branch_code=home.code,
            name=person.name,
            email=person.email,
            phone=person.phone,
            birth_date=person.birth_date,
        )

    def _calibrate_activity(self, year: int, municipalities: list[str] | None = None) -> None:
        """Solve each municipality's activity level for the active-borrower target and its
        items per visit for the loans-per-capita target."""
        scale = self.params.scale
        for municipality in self.municipalities if municipalities is None else municipalities:
            target = self.targets[municipality]
            patrons = [
                p for p in self.state.patrons.values() if p.home_municipality_code == municipality
            ]
            scores = [
                (activity_z(self.seed, p.id), p.category == PatronCategory.CHILD) for p in patrons
            ]
            inhabitants = scale * self.population.total(municipality, year)
            mu = solve_activity_location(scores, target.active_borrower_share * inhabitants)
            visits = sum(visits_per_year(mu, z, child) for z, child in scores) or 1.0
            self.params.activity_location[municipality] = mu
            self.params.items_per_visit[municipality] = max(
                1.0, LOSS_ALLOWANCE * target.loans_per_capita * inhabitants / visits
            )
        self._load_patron_activity()

    def _load_patron_activity(self) -> None:
        patrons = sorted(self.state.patrons.values(), key=lambda p: p.id)
        self.patron_list = patrons
        index = {m: i for i, m in enumerate(self.municipalities)}
        self.patron_muni = np.array(
            [index[p.home_municipality_code] for p in patrons], dtype=np.int64
        )
        self.patron_rate = np.array(
            [
                visits_per_year(
                    self.params.activity_location[p.home_municipality_code],
                    activity_z(self.seed, p.id),
                    p.category == PatronCategory.CHILD,
                )
                for p in patrons
            ]
        )
        self.patron_leaves = np.array(
            [leaves_on(self.seed, p.id, local_date(p.registered_at)).toordinal() for p in patrons],
            dtype=np.int64,
        )

    def next_day(self) -> date:
        return (self.last_finished_day or self.params.start - timedelta(days=1)) + timedelta(days=1)

    def simulate_day(self, day: date) -> DayReport:
        rng = day_rng(self.seed, day)
        self._counts = defaultdict(int)
        # The lending branches open today (the calendar's answer, asked once a day).
        self._open_today = {b.code for b in self.lending_branches if calendar.branch_open(b, day)}
        for code in sorted(self.joining):  # by code, as a resume orders them
            if self.joining[code] == day and code not in self.municipalities:
                self._admit(code, day)
        if day.day == 1 and day != self.params.start:
            self._renew_collection(day, rng)
        self.clock.set(at(day, 7))
        services.expire_holds(self.uow, self.clock)
        services.mark_lost_transports(self.uow, self.clock)
        if self.params.moves_on == day.isoformat():
            self._make_collection_moves(day)
        # (hour, order drawn, what, whom): sorted by hour, then in the order drawn (the
        # order is unique, so what and whom are never compared).
        actions: list[tuple[float, int, str, object]] = []
        for kind, entity_id in self._agenda.pop(day, []):
            hour = 8.0 if kind == "arrive" else 10 + 9 * rng.random()
            actions.append((hour, len(actions), kind, entity_id))
        for hour, patron in self._visits(day, rng):
            actions.append((hour, len(actions), "visit", patron))
        for hour, municipality in self._registrations(day, rng):
            actions.append((hour, len(actions), "register", municipality))
        actions.sort()
        clock = self.clock
        for hour, _, kind, whom in actions:
            clock.set(at(day, hour))
            if kind == "visit":
                self._visit(day, whom, rng)
            elif kind == "register":
                self._register_newcomer(day, whom, rng)
            else:
                self._agenda_action(day, kind, whom)
        self.clock.set(at(day, VAN_LEAVES_AT))
        self._dispatch_vans(day)
        self._plan_from_events(day)
        loans = self._counts["loans"]
        written = self.uow.flush(also=self._finish_day(day))
        self.last_finished_day = day
        return DayReport(day, written, loans, self._counts["holds"], self._counts["refused"])

    def _make_collection_moves(self, day: date) -> None:
        """The run's collection moves, before the branches open: each copy through the
        lending core's move_copy; a copy not on the shelf at the source then (on loan,
        gone) is not moved and is counted as missing."""
        self.clock.set(at(day, 7.5))
        done = MovesDone()
        for values in self.params.collection_moves:
            move = CollectionMove(**values)
            done.asked += move.copies
            for item in copies_to_move(self.state.items_by_title.get(move.title_id, ()), move):
                old_home = item.home_branch_code
                if self._try(services.move_copy, item.barcode, move.to_branch_code) is None:
                    continue
                done.moved += 1
                # the copy is browsed on its new home's shelf from now on
                self.shelf[old_home].remove(item)
                self.shelf[item.home_branch_code].append(item)
        done.missing = done.asked - done.moved
        self.moves_done = done
        log.info("collection moves on %s: %s", day, done)

    def _finish_day(self, day: date) -> Callable:
        # A picklable call: the writer process runs it in the day's transaction (with the
        # parameters when a municipality entered today: a resume needs its calibration).
        parameters = self.params.to_json() if self._parameters_changed else None
        self._parameters_changed = False
        return self.runs.finishing(self.run_id, day, parameters)

    def _admit(self, municipality: str, day: date) -> None:
        """An outside municipality enters the lending core on its join date, as the others
        did on the first day: its collection (part of its titles new to the shared
        catalogue, copies of every title bought to its stock target), its cardholders, and
        its residents' activity calibrated to its targets. Its own random stream, so the
        draws of the day's other events are those of a run without it."""
        rng = day_rng(self.seed, day, f"join-{municipality}")
        self.clock.set(at(day, 5))
        target = self.targets[municipality]
        self.municipalities.append(municipality)
        people = self.params.scale * self.population.total(municipality, day.year)
        stock = round(target.stock_per_capita * people)
        self._add_titles(
            rng, max(1, round(TITLES_PER_ITEM * stock * NEW_TITLES_ON_JOINING)), day.year
        )
        self._add_copies(rng, sorted(self.state.titles), {municipality: stock}, [municipality])
        self._rebuild_sampler()
        bands = self.population.age_bands(municipality, day.year)
        total = sum(bands.values())
        cardholders = round(target.registered_share * self.params.scale * total)
        for band, count in bands.items():
            for _ in range(round(cardholders * count / total)):
                self._register(rng, municipality, band, day)
        self._calibrate_activity(day.year, [municipality])
        self._parameters_changed = True

    def wait_written(self) -> None:
        """Wait until every simulated day is in the database."""
        self.state.wait()

    def close(self) -> None:
        """Wait until every simulated day is in the database and stop the writer process
        (simulating another day starts it again)."""
        self.state.close()

    def _try(self, use_case: Callable, *arguments) -> object | None:
        """Run a use case on the simulated clock; a refusal counts and returns None."""
        try:
            return use_case(self.uow, self.clock, *arguments)
        except errors.DomainError as refusal:
            self._counts["refused"] += 1
            log.debug("refused: %s", refusal)
            return None

    def _registrations(self, day: date, rng) -> list[tuple[float, str]]:
        """New cardholders replace those who leave (MEAN_MEMBERSHIP_YEARS)."""
        registrations = []
        for municipality in self.municipalities:
            target = self.targets[municipality]
            expected = (
                target.registered_share
                * self.params.scale
                * self.population.total(municipality, day.year)
                / (MEAN_MEMBERSHIP_YEARS * 365.25)
            )
            for _ in range(self._poisson(rng, expected)):
                registrations.append((10 + 9 * rng.random(), municipality))
        return registrations

    def _register_newcomer(self, day: date, municipality: str, rng) -> None:
        bands = self.population.age_bands(municipality, day.year)
        band = rng.choices(list(bands), list(bands.values()))[0]
        patron = self._register(rng, municipality, band, day)
        index = self.municipalities.index(municipality)
        self.patron_list.append(patron)
        self.patron_muni = np.append(self.patron_muni, index)
        self.patron_rate = np.append(
            self.patron_rate,
            visits_per_year(
                self.params.activity_location[municipality],
                activity_z(self.seed, patron.id),
                patron.category == PatronCategory.CHILD,
            ),
        )
        self.patron_leaves = np.append(
            self.patron_leaves, leaves_on(self.seed, patron.id, day).toordinal()
        )
