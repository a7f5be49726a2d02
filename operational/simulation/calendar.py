"""The simulated year: opening days, holidays, seasonality and van days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from operational.clock import LIBRARY_TIMEZONE

# Visits by month: a little lower around Christmas and in high summer (ISO 2789 loan
# statistics of Swedish libraries show the same shape).
MONTH_FACTOR = {
    1: 1.05,
    2: 1.05,
    3: 1.1,
    4: 1.0,
    5: 0.95,
    6: 0.95,
    7: 0.85,
    8: 0.95,
    9: 1.0,
    10: 1.05,
    11: 1.05,
    12: 0.85,
}
# Summer readers borrow more items per visit.
ITEMS_FACTOR = {6: 1.15, 7: 1.3, 8: 1.1}
# Visits by ISO weekday (Monday = 1).
WEEKDAY_FACTOR = {1: 1.1, 2: 1.1, 3: 1.0, 4: 1.1, 5: 0.9, 6: 0.7, 7: 0.5}


@cache
def _midsummer_eve(year: int) -> date:
    """The Friday between 19 and 25 June."""
    day = date(year, 6, 19)
    return day + timedelta(days=(4 - day.weekday()) % 7)


@cache
def is_holiday(day: date) -> bool:
    """Days the staffed libraries are closed (Christmas, New Year, Epiphany, Midsummer)."""
    return (day.month, day.day) in {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1), (1, 6)} or (
        day == _midsummer_eve(day.year)
    )


def branch_open(branch, day: date) -> bool:
    """Whether a branch lends on a day: its opening days, and staffless (card-access)
    points stay open on holidays."""
    if not branch.lends or not branch.is_open_on(day):
        return False
    return not (branch.staffed_hours_per_week > 0 and is_holiday(day))


def visit_factor(day: date) -> float:
    return MONTH_FACTOR[day.month] * WEEKDAY_FACTOR[day.isoweekday()]


def items_factor(day: date) -> float:
    return ITEMS_FACTOR.get(day.month, 1.0)


def is_working_day(day: date) -> bool:
    return day.isoweekday() <= 5 and not is_holiday(day)


def next_day_matching(day: date, weekdays: str, after: bool = True) -> date:
    """The first day after `day` (or from it, when after=False) whose ISO weekday is in
    weekdays and that is not a holiday."""
    candidate = day + timedelta(days=1) if after else day
    for _ in range(30):
        if str(candidate.isoweekday()) in weekdays and not is_holiday(candidate):
            return candidate
        candidate += timedelta(days=1)
    raise ValueError(f"no day matching weekdays {weekdays!r} near {day}")


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
