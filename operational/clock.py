"""Where every use case gets the time: the wall clock for the API, a simulated one for the
simulator, so a simulated year is stamped with that year's dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LIBRARY_TIMEZONE = ZoneInfo("Europe/Stockholm")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until it is moved."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the simulated time must be timezone-aware")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def local_date(moment: datetime) -> date:
    """The calendar date at the libraries (Europe/Stockholm) of a UTC moment."""
    if moment.tzinfo is not UTC:
        return moment.astimezone(LIBRARY_TIMEZONE).date()
    # Use cases ask this of every new moment: answered per UTC hour, which (the zone's
    # offsets being whole hours that change on the hour) lies within one local day.
    hour = moment.toordinal() * 24 + moment.hour
    day = _LOCAL_DAY_OF_HOUR.get(hour)
    if day is None:
        day = _local_day_of_hour(moment.replace(minute=0, second=0, microsecond=0))
        if day is None:
            return moment.astimezone(LIBRARY_TIMEZONE).date()
        _LOCAL_DAY_OF_HOUR[hour] = day
    return day


_LOCAL_DAY_OF_HOUR: dict[int, date] = {}


def _local_day_of_hour(start: datetime) -> date | None:
    """The libraries' date throughout the UTC hour from `start`, or None if the hour
    does not lie within one local day at one UTC offset."""
    first = start.astimezone(LIBRARY_TIMEZONE)
    last = (start + timedelta(hours=1, microseconds=-1)).astimezone(LIBRARY_TIMEZONE)
    if first.utcoffset() != last.utcoffset() or first.date() != last.date():
        return None
    return first.date()
