"""The vans: the day's runs dispatch what waits for them (on their route's van days, never on
holidays), and each transport's arrival day is planned (a missed van, a lost item)."""

from __future__ import annotations

from datetime import date

from operational.clock import local_date
from operational.domain.model import Transport
from operational.service_layer import services
from operational.simulation import calendar
from operational.simulation.behaviour import (
    LOST_IN_TRANSIT,
    MISSED_VAN,
)
from operational.simulation.randomness import unit


class Vans:
    """Part of Simulation (simulator.py), which holds the state these methods use."""

    def _plan_arrival(self, transport: Transport, today: date) -> None:
        if unit(self.seed, "lost", transport.id) < LOST_IN_TRANSIT:
            return  # never arrives: the lending core marks it lost after 30 days
        sent = local_date(transport.dispatched_at)
        days = self.consortium.van_days(transport.route)
        arrival = calendar.next_day_matching(sent, days)
        if unit(self.seed, "missed-van", transport.id) < MISSED_VAN:
            arrival = calendar.next_day_matching(arrival, days)
        self._agenda[max(arrival, today)].append(("arrive", transport.id))

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
