"""Residents' visits: how many a day, to which branch, and what they borrow or reserve there."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from operational.domain.model import Audience
from operational.service_layer import services
from operational.simulation import calendar
from operational.simulation.behaviour import (
    ADULT_AUDIENCE,
    AVAILABLE,
    CHILD_AUDIENCE,
    CHILD_PATRON,
    GONE,
    HOLD_WHEN_MISSING,
    VISIT_ELSEWHERE,
    WANTED_SHARE,
)
from operational.simulation.randomness import unit


class Visits:
    """Part of Simulation (simulator.py), which holds the state these methods use."""

    def _distance_km(self, a, b) -> float:
        if a.latitude is None or b.latitude is None:
            return 50.0
        dlat = (a.latitude - b.latitude) * 111.0
        dlon = (a.longitude - b.longitude) * 111.0 * math.cos(math.radians(a.latitude))
        return math.hypot(dlat, dlon)

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
        child = patron.category == CHILD_PATRON
        for _ in range(wanted):
            audience = (
                CHILD_AUDIENCE if (rng.random() < (0.85 if child else 0.05)) else ADULT_AUDIENCE
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
            if item.current_branch_code == branch_code and item.status == AVAILABLE:
                return item
        return None

    def _browse(self, branch_code: str, audience: Audience, rng):
        shelf = self.shelf.get(branch_code)
        if not shelf:
            return None
        for attempt in range(10):
            item = shelf[rng.randrange(len(shelf))]
            if (
                item.status == AVAILABLE
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
            if item.status not in GONE and may_borrow(patron, item, day):
                return True
        return False

    def _place_hold(self, patron, title_id: int, branch) -> bool:
        if self.uow.holds.active_for(patron.id, title_id) is not None:
            return True  # already waiting for it: one active hold per patron and title
        hold = self._try(services.place_hold, patron.card_number, title_id, branch.code)
        if hold is not None:
            self._counts["holds"] += 1
        return hold is not None
