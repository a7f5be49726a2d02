"""Where every use case gets the time: the wall clock for the API, a simulated one for the
simulator, so a simulated year is stamped with that year's dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
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


@lru_cache(maxsize=1 << 14)  # use cases ask it of the same few moments again and again
def local_date(moment: datetime) -> date:
    """The calendar date at the libraries (Europe/Stockholm) of a UTC moment."""
    return moment.astimezone(LIBRARY_TIMEZONE).date()
