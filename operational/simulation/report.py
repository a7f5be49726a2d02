"""The calibration table printed after a simulation: target against simulated value, per
municipality and year, for loans per capita, active-borrower share and stock per capita."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select

from operational.adapters import tables
from operational.simulation import calendar

TOLERANCE = 0.10


@dataclass
class CalibrationRow:
    municipality_code: str
    municipality_name: str
    year: int
    share_of_year: float  # of the year's visits the simulated days cover
    population_year: int  # the SCB year whose population stood in
    loans_target: float
    loans: float
    active_target: float
    active: float
    stock_target: float
    stock: float

    @staticmethod
    def _off(actual: float, target: float) -> float:
        return (actual - target) / target if target else 0.0

    @property
    def deviations(self) -> dict[str, float]:
        return {
            "loans_per_capita": self._off(self.loans, self.loans_target),
            "active_borrower_share": self._off(self.active, self.active_target),
            "stock_per_capita": self._off(self.stock, self.stock_target),
        }

    @property
    def within_tolerance(self) -> bool:
        return all(abs(d) <= TOLERANCE for d in self.deviations.values())


def calibration_table(simulation, end: date | None = None) -> list[CalibrationRow]:
    """Compare what the simulation produced with its targets, year by year."""
    params = simulation.params
    last = end or simulation.last_finished_day
    if last is None:
        return []
    engine, scale = simulation.engine, params.scale
    year_of = func.extract("year", tables.loan.c.checked_out_at)
    with engine.connect() as c:
        loan_rows = c.execute(
            select(
                tables.patron.c.home_municipality_code,
                year_of.label("year"),
                func.count().label("loans"),
                func.count(func.distinct(tables.loan.c.patron_id)).label("borrowers"),
            )
            .select_from(tables.loan.join(tables.patron))
            .group_by(tables.patron.c.home_municipality_code, year_of)
        ).all()
        loans = {(r[0], int(r.year)): (r.loans, r.borrowers) for r in loan_rows}
        stock = {}
        for year in range(params.start.year, last.year + 1):
            cutoff = datetime.combine(min(date(year, 12, 31), last), time(23, 59), tzinfo=UTC)
            owned = c.execute(
                select(tables.branch.c.municipality_code, func.count())
                .select_from(
                    tables.item.join(
                        tables.branch, tables.item.c.home_branch_code == tables.branch.c.code
                    )
                )
                .where(
                    tables.item.c.added_at <= cutoff,
                    tables.item.c.status != "lost",
                    or_(tables.item.c.withdrawn_at.is_(None), tables.item.c.withdrawn_at > cutoff),
                )
                .group_by(tables.branch.c.municipality_code)
            ).all()
            for code, count in owned:
                stock[(code, year)] = count
    rows = []
    for year in range(params.start.year, last.year + 1):
        first = max(params.start, date(year, 1, 1))
        final = min(last, date(year, 12, 31))
        for code in simulation.municipalities:
            # a municipality that entered on its join date is held to the part of the
            # year it was simulated
            entered = max(first, simulation.joining.get(code, first))
            if entered > final:
                continue
            share = _share_of_year(entered, final)
            target = simulation.targets[code]
            people = scale * simulation.population.total(code, year)
            year_loans, borrowers = loans.get((code, year), (0, 0))
            rows.append(
                CalibrationRow(
                    municipality_code=code,
                    municipality_name=target.municipality_name,
                    year=year,
                    share_of_year=share,
                    population_year=simulation.population.year_used(code, year),
                    loans_target=target.loans_per_capita * share,
                    loans=year_loans / people,
                    active_target=_expected_active(simulation, code, share, people),
                    active=borrowers / people,
                    stock_target=target.stock_per_capita,
                    stock=stock.get((code, year), 0) / people,
                )
            )
    return rows


def _share_of_year(first: date, last: date) -> float:
    total = covered = 0.0
    day = date(first.year, 1, 1)
    while day.year == first.year:
        factor = calendar.visit_factor(day)
        total += factor
        if first <= day <= last:
            covered += factor
        day += timedelta(days=1)
    return covered / total


def _expected_active(simulation, code: str, share: float, people: float) -> float:
    """The active-borrower target for a whole year; for part of a year, what the same
    visit rates give over that part (fewer people borrow at least once in a shorter time)."""
    target = simulation.targets[code].active_borrower_share
    if share >= 0.999:
        return target
    index = simulation.municipalities.index(code)
    rates = simulation.patron_rate[simulation.patron_muni == index]
    full = sum(1 - math.exp(-r) for r in rates)
    part = sum(1 - math.exp(-r * share) for r in rates)
    return target * part / full if full else 0.0


def format_table(rows: list[CalibrationRow]) -> str:
    header = (
        f"{'municipality':<13}{'year':>5}{'of yr':>7}  "
        f"{'loans/cap':>16}  {'active share':>16}  {'stock/cap':>16}  ok"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        d = r.deviations

        def cell(target: float, actual: float, off: float, digits: int = 2) -> str:
            return f"{target:>5.{digits}f}→{actual:>5.{digits}f} {off:+4.0%}"

        lines.append(
            f"{r.municipality_name:<13}{r.year:>5}{r.share_of_year:>7.0%}  "
            f"{cell(r.loans_target, r.loans, d['loans_per_capita'])}  "
            f"{cell(r.active_target, r.active, d['active_borrower_share'], 3)}  "
            f"{cell(r.stock_target, r.stock, d['stock_per_capita'])}  "
            f"{'yes' if r.within_tolerance else 'NO'}"
        )
    return "\n".join(lines)
