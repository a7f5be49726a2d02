"""The day-by-day simulation: residents visit their libraries, borrow, return, renew and
reserve; the van moves items; the catalogue grows and is weeded. Every change goes through
the lending core's use cases (operational.service_layer.services) on a simulated clock;
the simulator only decides what people and vans do, never what the rules allow.

Membership drives the results through the rules alone: before a municipality joins, its
residents may use only its own branches and copies; from the join date the use cases let
them reach every member's copies.
"""

from __future__ import annotations

import gc
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from operational.adapters.batch import BatchUnitOfWork, MemoryState
from operational.adapters.batch_writer import BackgroundWriter, can_run_in_background
from operational.adapters.simulation_runs import SimulationRuns
from operational.clock import LIBRARY_TIMEZONE, SimulatedClock, local_date
from operational.domain import errors
from operational.domain.events import EventType
from operational.domain.model import (
    Audience,
    Hold,
    HoldStatus,
    ItemStatus,
    Loan,
    PatronCategory,
    Transport,
)
from operational.service_layer import services
from operational.simulation import calendar
from operational.simulation.calibration import CHILD_BAND, Population, Target, load_targets
from operational.simulation.catalogue import (
    CHILDREN_SHARE,
    PopularitySampler,
    allocate_copies,
    make_titles,
    title_weight,
)
from operational.simulation.patrons import (
    MEAN_MEMBERSHIP_YEARS,
    PeopleFactory,
    activity_z,
    leaves_on,
    solve_activity_location,
    visits_per_year,
)
from operational.simulation.randomness import day_rng, unit

log = logging.getLogger(__name__)

# Enum members the day loop reads, bound to names: in Python 3.11 reading a member off its
# class goes through EnumType.__getattr__ and costs some 0.3 us, fifteen times a name.
_AVAILABLE, _GONE = ItemStatus.AVAILABLE, (ItemStatus.WITHDRAWN, ItemStatus.LOST)
_WAITING, _READY = HoldStatus.WAITING, HoldStatus.READY
_CHILD_AUDIENCE, _ADULT_AUDIENCE = Audience.CHILD, Audience.ADULT
_CHILD_PATRON = PatronCategory.CHILD

TITLES_PER_ITEM = 0.2  # catalogue size relative to the consortium's stock
WANTED_SHARE = 0.5  # of items sought as a particular title (the rest: browsing the shelf)
HOLD_WHEN_MISSING = 0.55  # chance of reserving a wanted title that is not on the shelf
VISIT_ELSEWHERE = 0.1  # visits to a branch other than the patron's own
RETURN_ELSEWHERE = 0.12
NEVER_COLLECTED = 0.08  # ready holds left on the hold shelf
GIVE_UP_AFTER_DAYS = 60  # a waiting hold is cancelled by its patron after 60-120 days
MISSED_VAN = 0.1
VAN_LEAVES_AT = 18.5  # local hour of the day's van runs: they take what was requested before
LOST_IN_TRANSIT = 0.001
MONTHLY_ACQUISITION = 0.007  # of stock, as new titles each month
MONTHLY_WEEDING = 0.007  # of stock withdrawn each month: stock per capita stays level
# Visits that end without a loan (nothing suitable on the shelf, a hold never collected)
# would be made up for by more items per visit. Full-scale runs of 2024-2026 land within
# a few per cent of the targets without it, so none is added.
LOSS_ALLOWANCE = 1.0


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


def at(day: date, hour: float) -> datetime:
    """A local time on a simulated day, as UTC."""
    midnight = _steady_midnight(day)
    if midnight is not None and 0 <= hour < 24:
        # The same moment as below, without a time-zone lookup per call.
        return midnight + timedelta(hours=hour)
    moment = datetime.combine(day, time(0), tzinfo=LIBRARY_TIMEZONE) + timedelta(hours=hour)
    return moment.astimezone(UTC)


@cache
def _steady_midnight(day: date) -> datetime | None:
    """The libraries' midnight starting a day without a clock change, as UTC (None on the
    two days a year the clocks go forward or back)."""
    first = datetime.combine(day, time(0), tzinfo=LIBRARY_TIMEZONE).utcoffset()
    last = datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LIBRARY_TIMEZONE).utcoffset()
    if first != last:
        return None
    return (datetime.combine(day, time(0)) - first).replace(tzinfo=UTC)


class Simulation:
    """A simulation bound to one lending-core database."""

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
        self.state = MemoryState(engine, writer)
        gc.freeze()  # loaded once and kept: not garbage the collector needs to walk
        self.uow = BatchUnitOfWork(self.state)
        self.clock = SimulatedClock(at(parameters.start, 6))
        self.consortium = self.state.consortium
        self.municipalities = sorted(self.targets)
        self._branch_setup()
        self._agenda: dict[date, list[tuple[str, int]]] = defaultdict(list)
        self._refused_renewal: set[int] = set()
        self._visit_norm: dict[tuple[str, int], float] = {}
        self._nearby_day: date | None = None
        self._nearby: dict[tuple[str, str], tuple[list, list, float]] = {}
        self._title_weights: dict[int, float] = {}  # fixed by seed and id: kept

    # ------------------------------------------------------------------ set-up

    def _branch_setup(self) -> None:
        self.lending_branches = [b for b in self.state.branches.values() if b.lends]
        self.branches_of: dict[str, list] = defaultdict(list)
        for branch in self.lending_branches:
            self.branches_of[branch.municipality_code].append(branch)
        self.branch_weight = {
            b.code: b.staffed_hours_per_week + 0.3 * b.staffless_hours_per_week + 1
            for b in self.lending_branches
        }
        self.shelf: dict[str, list] = defaultdict(list)  # items by home branch, for browsing
        for item in self.state.items.values():
            self.shelf[item.home_branch_code].append(item)

    def _distance_km(self, a, b) -> float:
        if a.latitude is None or b.latitude is None:
            return 50.0
        dlat = (a.latitude - b.latitude) * 111.0
        dlon = (a.longitude - b.longitude) * 111.0 * math.cos(math.radians(a.latitude))
        return math.hypot(dlat, dlon)

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
    ) -> Simulation:
        """Start a new simulation on an initialised database without circulation."""
        runs = SimulationRuns(engine)
        if runs.any():
            raise errors.Conflict("this database already holds a simulation; use --resume")
        if runs.circulation_exists():
            raise errors.Conflict(
                "this database already has circulation; simulate into a new database "
                "(bibbla db init --reset)"
            )
        simulation = cls(engine, reference_dir, Parameters(seed, scale, start, end, scenario))
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

    def _add_titles(self, rng, count: int, year: int) -> list[int]:
        authors = [self.people.author(rng) for _ in range(max(20, count // 8))]
        first = len(self.state.titles) + 1
        ids = []
        for spec in make_titles(rng, count, authors, year, first_number=first):
            title = services.add_title(
                self.uow,
                self.clock,
                spec.title,
                spec.author,
                spec.media_type,
                spec.audience,
                isbn=spec.isbn,
                year=spec.year,
                language=spec.language,
            )
            ids.append(title.id)
        return ids

    def _add_copies(self, rng, title_ids: list[int], budget: dict[str, int]) -> None:
        """Each municipality buys copies of the given titles with its budget (children's
        titles get their share of it) and spreads them over its branches."""
        by_audience = {
            audience: [t for t in title_ids if self.state.titles[t].audience == audience]
            for audience in Audience
        }
        for municipality in self.municipalities:
            branches = self.branches_of[municipality]
            weights = [self.branch_weight[b.code] for b in branches]
            for audience, ids in by_audience.items():
                share = CHILDREN_SHARE if audience == Audience.CHILD else 1 - CHILDREN_SHARE
                copies = allocate_copies(
                    rng,
                    [title_weight(self.seed, t, self.params.catalogue_size) for t in ids],
                    round(budget[municipality] * share),
                    self.targets[municipality].max_copies_per_title,
                )
                for title_id, count in zip(ids, copies, strict=True):
                    for _ in range(count):
                        branch = rng.choices(branches, weights)[0]
                        barcode = f"{municipality}{len(self.state.items) + 1:08d}"
                        item = services.add_item(
                            self.uow, self.clock, barcode, title_id, branch.code
                        )
                        self.shelf[branch.code].append(item)

    def _register(self, rng, municipality: str, band: str, day: date):
        branches = self.branches_of[municipality]
        home = rng.choices(branches, [self.branch_weight[b.code] for b in branches])[0]
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

    def _calibrate_activity(self, year: int) -> None:
        """Solve each municipality's activity level for the active-borrower target and its
        items per visit for the loans-per-capita target."""
        scale = self.params.scale
        for municipality in self.municipalities:
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

    def _rebuild_sampler(self) -> None:
        size, weights = self.params.catalogue_size, self._title_weights
        for title_id in self.state.titles.keys() - weights.keys():
            weights[title_id] = title_weight(self.seed, title_id, size)
        self.sampler = PopularitySampler(
            [(t.id, weights[t.id], t.audience) for t in self.state.titles.values()]
        )

    # ------------------------------------------------------------------ the agenda

    def _rebuild_agenda(self) -> None:
        """After a resume: what each open loan, ready hold and dispatched transport will
        do next, from the database's state (the plans are fixed by seed and id)."""
        resume_day = (self.last_finished_day or self.params.start) + timedelta(days=1)
        for loan in self.state.loans.values():
            if loan.is_active:
                when, kind = self._loan_next(loan, resume_day)
                self._agenda[max(when, resume_day)].append((kind, loan.id))
        for hold in self.state.holds.values():
            if hold.status == HoldStatus.READY:
                self._plan_pickup(hold, resume_day)
            elif hold.status == HoldStatus.WAITING:
                self._plan_giving_up(hold, resume_day)
        for transport in self.state.transports.values():
            if transport.is_open and transport.dispatched_at is not None:
                self._plan_arrival(transport, resume_day)

    def _loan_plan(self, loan: Loan, rule) -> tuple[str, int]:
        """How the borrower treats this loan (under its circulation rule): ('on_time' |
        'renewer' | 'late', days kept)."""
        u, v = unit(self.seed, "loan-kind", loan.id), unit(self.seed, "loan-keep", loan.id)
        if u < 0.62 or rule.max_renewals == 0:
            return "on_time", 3 + int(v * max(rule.loan_days - 4, 1))
        if u < 0.87:
            return "renewer", rule.loan_days + 3 + int(v * rule.loan_days * 1.5)
        return "late", rule.loan_days + 1 + int(v * 20)

    def _loan_next(self, loan: Loan, today: date) -> tuple[date, str]:
        rule = self.state.rules[(loan.item.title.media_type, loan.patron.category)]
        kind, keep = self._loan_plan(loan, rule)
        planned = local_date(loan.checked_out_at) + timedelta(days=keep)
        due = local_date(loan.due_at)
        if planned <= due or kind == "late":
            return planned, "return"
        renew_on = due - timedelta(days=1 + int(unit(self.seed, "renew-day", loan.id) * 3))
        renewable = loan.id not in self._refused_renewal and loan.renewals < rule.max_renewals
        if renewable and renew_on >= today:
            return renew_on, "renew"
        return max(due, today), "return"

    def _plan_pickup(self, hold: Hold, today: date) -> None:
        if unit(self.seed, "never-collected", hold.id) < NEVER_COLLECTED:
            return
        delay = int(unit(self.seed, "pickup-delay", hold.id) * 5)
        self._agenda[max(local_date(hold.ready_at) + timedelta(days=delay), today)].append(
            ("pickup", hold.id)
        )

    def _plan_giving_up(self, hold: Hold, today: date) -> None:
        """A patron still waiting after two to four months cancels the hold."""
        patience = GIVE_UP_AFTER_DAYS + int(
            unit(self.seed, "patience", hold.id) * GIVE_UP_AFTER_DAYS
        )
        self._agenda[max(local_date(hold.placed_at) + timedelta(days=patience), today)].append(
            ("give_up", hold.id)
        )

    def _plan_arrival(self, transport: Transport, today: date) -> None:
        if unit(self.seed, "lost", transport.id) < LOST_IN_TRANSIT:
            return  # never arrives: the lending core marks it lost after 30 days
        sent = local_date(transport.dispatched_at)
        days = self.consortium.van_days(transport.route)
        arrival = calendar.next_day_matching(sent, days)
        if unit(self.seed, "missed-van", transport.id) < MISSED_VAN:
            arrival = calendar.next_day_matching(arrival, days)
        self._agenda[max(arrival, today)].append(("arrive", transport.id))

    # ------------------------------------------------------------------ one day

    def next_day(self) -> date:
        return (self.last_finished_day or self.params.start - timedelta(days=1)) + timedelta(days=1)

    def simulate_day(self, day: date) -> DayReport:
        rng = day_rng(self.seed, day)
        self._counts = defaultdict(int)
        # The lending branches open today (the calendar's answer, asked once a day).
        self._open_today = {b.code for b in self.lending_branches if calendar.branch_open(b, day)}
        if day.day == 1 and day != self.params.start:
            self._renew_collection(day, rng)
        self.clock.set(at(day, 7))
        services.expire_holds(self.uow, self.clock)
        services.mark_lost_transports(self.uow, self.clock)
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

    def _finish_day(self, day: date) -> Callable:
        # A picklable call: the writer process runs it in the day's transaction.
        return self.runs.finishing(self.run_id, day)

    def wait_written(self) -> None:
        """Wait until every simulated day is in the database."""
        self.state.wait()

    def close(self) -> None:
        """Wait until every simulated day is in the database and stop the writer process
        (simulating another day starts it again)."""
        self.state.close()

    def _plan_from_events(self, day: date) -> None:
        """Plan tomorrow's behaviour from what happened today (new loans, renewals, holds
        ready for pickup, transports on their way)."""
        tomorrow = day + timedelta(days=1)
        agenda = self._agenda
        checkout, renew = EventType.CHECKOUT, EventType.RENEW
        ready, placed = EventType.HOLD_READY, EventType.HOLD_PLACED
        dispatched = EventType.TRANSPORT_DISPATCHED
        for event in self.state.events:
            kind = event.type
            if kind is checkout or kind is renew:
                loan = event.loan
                when, action = self._loan_next(loan, tomorrow)
                agenda[when].append((action, loan.id))
            elif kind is ready:
                self._plan_pickup(event.hold, tomorrow)
            elif kind is placed:
                self._plan_giving_up(event.hold, tomorrow)
            elif kind is dispatched:
                self._plan_arrival(event.transport, tomorrow)

    def _try(self, use_case: Callable, *arguments) -> object | None:
        """Run a use case on the simulated clock; a refusal counts and returns None."""
        try:
            return use_case(self.uow, self.clock, *arguments)
        except errors.DomainError as refusal:
            self._counts["refused"] += 1
            log.debug("refused: %s", refusal)
            return None

    # -- agenda actions

    def _agenda_action(self, day: date, kind: str, entity_id: int) -> None:
        if kind == "arrive":
            transport = self.state.transports.get(entity_id)
            if transport is not None and transport.is_open:
                self._try(services.receive_transport, entity_id)
        elif kind == "pickup":
            self._pickup(day, entity_id)
        elif kind == "give_up":
            hold = self.state.holds.get(entity_id)
            if hold is not None and hold.status == _WAITING:
                self._try(services.cancel_hold, entity_id)
        else:
            loan = self.state.loans.get(entity_id)
            if loan is not None and loan.is_active:
                self._renew(day, loan) if kind == "renew" else self._return(day, loan)

    def _pickup(self, day: date, hold_id: int) -> None:
        hold = self.state.holds.get(hold_id)
        if hold is None or hold.status != _READY:
            return
        code = hold.pickup_branch_code
        if code not in self._open_today:
            if local_date(hold.expires_at) > day:
                self._agenda[day + timedelta(days=1)].append(("pickup", hold_id))
            return
        if self._try(services.checkout, hold.patron.card_number, hold.item.barcode, code):
            self._counts["loans"] += 1

    def _renew(self, day: date, loan: Loan) -> None:
        if self._try(services.renew, loan.id) is None:
            self._refused_renewal.add(loan.id)
            when, kind = self._loan_next(loan, day + timedelta(days=1))
            self._agenda[when].append((kind, loan.id))

    def _return(self, day: date, loan: Loan) -> None:
        patron = loan.patron
        home = self.state.branches[patron.home_branch_code]
        choice = home
        if unit(self.seed, "return-away", loan.id) < RETURN_ELSEWHERE:
            choice = self._nearby_branch(patron, home, day, salt=loan.id) or home
        elif loan.branch_code != home.code and unit(self.seed, "return-there", loan.id) < 0.5:
            choice = self.state.branches[loan.branch_code]
        for branch in (choice, home):
            usable = branch.code in self._open_today and self.consortium.may_use(
                patron.home_municipality_code, branch, day
            )
            if usable and self._try(services.checkin, loan.item.barcode, branch.code):
                return
        self._agenda[day + timedelta(days=1)].append(("return", loan.id))

    def _nearby_branch(self, patron, home, day: date, salt: int):
        """Another open branch the patron may use, nearer ones more likely."""
        candidates, weights, total = self._nearby_choices(patron.home_municipality_code, home, day)
        if not candidates:
            return None
        u = unit(self.seed, f"nearby-{day.toordinal()}", salt) * total
        for branch, weight in zip(candidates, weights, strict=True):
            u -= weight
            if u <= 0:
                return branch
        return candidates[-1]

    def _nearby_choices(self, municipality: str, home, day: date) -> tuple[list, list, float]:
        """The branches other than home that are open on the day and that residents of
        the municipality may use, with their weights (the same all day: kept for it)."""
        if self._nearby_day != day:
            self._nearby_day, self._nearby = day, {}
        key = (municipality, home.code)
        choices = self._nearby.get(key)
        if choices is None:
            candidates = [
                b
                for b in self.lending_branches
                if b.code != home.code
                and b.code in self._open_today
                and self.consortium.may_use(municipality, b, day)
            ]
            weights = [
                self.branch_weight[b.code] / (1 + self._distance_km(home, b) / 10)
                for b in candidates
            ]
            choices = self._nearby[key] = (candidates, weights, sum(weights))
        return choices

    # -- visits

    def _visit_norm_for(self, municipality: str, year: int) -> float:
        """Σ over the year's days of the visit factor on days a branch of the
        municipality is open: divides a yearly visit rate into daily ones."""
        key = (municipality, year)
        if key not in self._visit_norm:
            day, total = date(year, 1, 1), 0.0
            while day.year == year:
                if any(calendar.branch_open(b, day) for b in self.branches_of[municipality]):
                    total += calendar.visit_factor(day)
                day += timedelta(days=1)
            self._visit_norm[key] = total
        return self._visit_norm[key]

    def _visits(self, day: date, rng) -> list[tuple[float, object]]:
        factor = calendar.visit_factor(day)
        per_muni = np.array(
            [factor / self._visit_norm_for(m, day.year) for m in self.municipalities]
        )
        rates = self.patron_rate * per_muni[self.patron_muni]
        rates[self.patron_leaves <= day.toordinal()] = 0.0
        counts = np.random.default_rng([self.seed, day.toordinal()]).poisson(rates)
        visits = []
        for index in np.nonzero(counts)[0]:
            for _ in range(int(counts[index])):
                visits.append((10 + 9 * rng.random(), self.patron_list[index]))
        return visits

    def _visit(self, day: date, patron, rng) -> None:
        branch = self._visit_branch(day, patron, rng)
        if branch is not None:
            self._borrow(day, patron, branch, rng)

    def _visit_branch(self, day: date, patron, rng):
        home = self.state.branches[patron.home_branch_code]
        if rng.random() < VISIT_ELSEWHERE:
            elsewhere = self._nearby_branch(patron, home, day, salt=rng.randrange(1 << 30))
            if elsewhere is not None:
                return elsewhere
        if home.code in self._open_today:
            return home
        open_here = [
            b for b in self.branches_of[patron.home_municipality_code] if b.code in self._open_today
        ]
        return max(open_here, key=lambda b: self.branch_weight[b.code]) if open_here else None

    def _borrow(self, day: date, patron, branch, rng) -> None:
        municipality = patron.home_municipality_code
        mean = self.params.items_per_visit[municipality] * calendar.items_factor(day)
        wanted = 1 + self._poisson(rng, max(mean - 1, 0.0))
        child = patron.category == _CHILD_PATRON
        for _ in range(wanted):
            audience = (
                _CHILD_AUDIENCE if (rng.random() < (0.85 if child else 0.05)) else _ADULT_AUDIENCE
            )
            item = None
            if rng.random() < WANTED_SHARE:
                title_id = self.sampler.draw(rng, audience)
                item = self._on_shelf(title_id, branch.code)
                wants_hold = (
                    item is None
                    and title_id is not None
                    and rng.random() < HOLD_WHEN_MISSING
                    and self._reachable(patron, title_id, day)
                )
                if wants_hold and self._place_hold(patron, title_id, branch):
                    continue
            if item is None:
                item = self._browse(branch.code, audience, rng)
            if item is None:
                continue
            loan = self._try(services.checkout, patron.card_number, item.barcode, branch.code)
            if loan is None:
                return  # e.g. the loan limit: the visit ends here
            self._counts["loans"] += 1

    @staticmethod
    def _poisson(rng, mean: float) -> int:
        # Knuth's method: the means here are small.
        limit, product, count = math.exp(-mean), rng.random(), 0
        while product > limit:
            product *= rng.random()
            count += 1
        return count

    def _on_shelf(self, title_id: int | None, branch_code: str):
        if title_id is None:
            return None
        for item in self.state.items_by_title.get(title_id, ()):
            if item.current_branch_code == branch_code and item.status == _AVAILABLE:
                return item
        return None

    def _browse(self, branch_code: str, audience: Audience, rng):
        shelf = self.shelf.get(branch_code)
        if not shelf:
            return None
        for attempt in range(10):
            item = shelf[rng.randrange(len(shelf))]
            if (
                item.status == _AVAILABLE
                and item.current_branch_code == branch_code
                and (attempt >= 6 or item.title.audience == audience)
            ):
                return item
        return None

    def _reachable(self, patron, title_id: int, day: date) -> bool:
        """Whether the catalogue shows the patron a copy they may reserve: one they may
        borrow that day (nobody reserves a title with no copy)."""
        may_borrow = self.consortium.may_borrow
        for item in self.state.items_by_title.get(title_id, ()):
            if item.status not in _GONE and may_borrow(patron, item, day):
                return True
        return False

    def _place_hold(self, patron, title_id: int, branch) -> bool:
        if self.uow.holds.active_for(patron.id, title_id) is not None:
            return True  # already waiting for it: one active hold per patron and title
        hold = self._try(services.place_hold, patron.card_number, title_id, branch.code)
        if hold is not None:
            self._counts["holds"] += 1
        return hold is not None

    # -- registrations, vans and the collection

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

    def _dispatch_vans(self, day: date) -> None:
        """The day's van runs (at VAN_LEAVES_AT) take every waiting item of their route; an
        item requested later in the day (visits go on until 19:00) waits for the next run."""
        now = self.clock.now()
        for transport in list(self.state.transports.values()):
            if transport.dispatched_at is None and transport.is_open:
                if calendar.is_holiday(day) or not self.consortium.van_runs_on(
                    transport.route, day
                ):
                    continue
                if transport.requested_at > now:
                    continue
                self._try(services.dispatch_transport, transport.id)

    def _renew_collection(self, day: date, rng) -> None:
        """Monthly acquisitions (new titles, bought by each municipality) and weeding."""
        self.clock.set(at(day, 6))
        gone = (ItemStatus.WITHDRAWN, ItemStatus.LOST)
        by_branch = Counter(
            item.home_branch_code for item in self.state.items.values() if item.status not in gone
        )
        stock = defaultdict(int)
        for code, count in by_branch.items():
            stock[self.state.branches[code].municipality_code] += count
        new_titles = max(1, round(MONTHLY_ACQUISITION * sum(stock.values()) * TITLES_PER_ITEM * 2))
        title_ids = self._add_titles(rng, new_titles, day.year)
        self._add_copies(
            rng, title_ids, {m: round(MONTHLY_ACQUISITION * stock[m]) for m in self.municipalities}
        )
        self._rebuild_sampler()
        for municipality in self.municipalities:
            # Only a copy on its own shelf can be weeded; draw until enough are found.
            wanted, attempts = round(MONTHLY_WEEDING * stock[municipality]), 0
            while wanted > 0 and attempts < 20 * (wanted + 10):
                attempts += 1
                branch = rng.choice(self.branches_of[municipality])
                shelf = self.shelf[branch.code]
                if not shelf:
                    continue
                item = shelf[rng.randrange(len(shelf))]
                on_own_shelf = (
                    item.status == ItemStatus.AVAILABLE and item.current_branch_code == branch.code
                )
                if on_own_shelf and self._try(services.withdraw_item, item.barcode):
                    wanted -= 1
