"""The simulation's agenda: what each loan, ready hold and waiting hold will do on which
day (fixed by seed and id), planned from the day's events, and acted on when the day comes."""

from __future__ import annotations

from datetime import date, timedelta

from operational.clock import local_date
from operational.domain.events import EventType
from operational.domain.model import (
    Hold,
    HoldStatus,
    Loan,
)
from operational.service_layer import services
from operational.simulation.behaviour import (
    GIVE_UP_AFTER_DAYS,
    NEVER_COLLECTED,
    READY,
    RETURN_ELSEWHERE,
    WAITING,
)
from operational.simulation.randomness import unit


class Agenda:
    """Part of Simulation (simulator.py), which holds the state these methods use."""

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

    def _agenda_action(self, day: date, kind: str, entity_id: int) -> None:
        if kind == "arrive":
            transport = self.state.transports.get(entity_id)
            if transport is not None and transport.is_open:
                self._try(services.receive_transport, entity_id)
        elif kind == "pickup":
            self._pickup(day, entity_id)
        elif kind == "give_up":
            hold = self.state.holds.get(entity_id)
            if hold is not None and hold.status == WAITING:
                self._try(services.cancel_hold, entity_id)
        else:
            loan = self.state.loans.get(entity_id)
            if loan is not None and loan.is_active:
                self._renew(day, loan) if kind == "renew" else self._return(day, loan)

    def _pickup(self, day: date, hold_id: int) -> None:
        hold = self.state.holds.get(hold_id)
        if hold is None or hold.status != READY:
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
