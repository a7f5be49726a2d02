"""The collection: the titles and copies bought at the start and each month, and weeding."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from operational.domain.model import (
    Audience,
    ItemStatus,
)
from operational.service_layer import services
from operational.simulation.behaviour import (
    MONTHLY_ACQUISITION,
    MONTHLY_WEEDING,
    TITLES_PER_ITEM,
)
from operational.simulation.calendar import at
from operational.simulation.catalogue import (
    CHILDREN_SHARE,
    PopularitySampler,
    allocate_copies,
    make_titles,
    title_weight,
)
from operational.simulation.randomness import weighted_choice


class Stock:
    """Part of Simulation (simulator.py), which holds the state these methods use."""

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

    def _add_copies(
        self, rng, title_ids: list[int], budget: dict[str, int], buyers: list[str] | None = None
    ) -> None:
        """Each municipality (of buyers; default all simulated) buys copies of the given
        titles with its budget (children's titles get their share of it) and spreads them
        over its branches."""
        by_audience = {
            audience: [t for t in title_ids if self.state.titles[t].audience == audience]
            for audience in Audience
        }
        for municipality in self.municipalities if buyers is None else buyers:
            branches = self.branches_of[municipality]
            cumulative = self.branch_cumulative_weight[municipality]
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
                        branch = weighted_choice(rng, branches, cumulative)
                        barcode = f"{municipality}{len(self.state.items) + 1:08d}"
                        item = services.add_item(
                            self.uow, self.clock, barcode, title_id, branch.code
                        )
                        self.shelf[branch.code].append(item)

    def _rebuild_sampler(self) -> None:
        size, weights = self.params.catalogue_size, self._title_weights
        for title_id in self.state.titles.keys() - weights.keys():
            weights[title_id] = title_weight(self.seed, title_id, size)
        self.sampler = PopularitySampler(
            [(t.id, weights[t.id], t.audience) for t in self.state.titles.values()]
        )

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
