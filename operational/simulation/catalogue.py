"""The simulated shared catalogue: titles with skewed popularity and each municipality's
copies of them.

Popularity follows a Zipf law (a few bestsellers, a long tail). A municipality spends half
its stock on depth (copies in proportion to demand, capped by `max_copies_per_title`) and
half on breadth (one copy of less popular titles). Small municipalities have a low cap, so
they own fewer copies per inhabitant of the popular titles: the inequality that sharing is
meant to fix.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass

from operational.domain.model import Audience, MediaType
from operational.simulation.randomness import unit

ZIPF_EXPONENT = 0.9
CHILDREN_SHARE = 0.3  # of titles, and of each municipality's stock
DEPTH_SHARE = 0.5  # of stock bought in proportion to demand

_ADJECTIVES = [
    "Den tysta",
    "Det röda",
    "Den sista",
    "Det gamla",
    "Den långa",
    "Det mörka",
    "Den blå",
    "Det hemliga",
    "Den vita",
    "Det stora",
    "Den lilla",
    "Det gröna",
]
_NOUNS = [
    "sjön",
    "huset",
    "vintern",
    "skogen",
    "brevet",
    "bruket",
    "gruvan",
    "kyrkan",
    "sommaren",
    "vägen",
    "gården",
    "ön",
    "staden",
    "elden",
    "natten",
    "resan",
]
_CHILD_NOUNS = [
    "draken",
    "katten",
    "kojan",
    "bussen",
    "monstret",
    "skatten",
    "hunden",
    "rymdskeppet",
    "prinsessan",
    "roboten",
]
_LANGUAGES = [("en", 0.04), ("ar", 0.015), ("so", 0.01), ("fi", 0.01), ("fa", 0.01), ("ti", 0.005)]
_MEDIA = [
    (MediaType.BOOK, 0.72),
    (MediaType.QUICK_LOAN, 0.06),
    (MediaType.AUDIOBOOK, 0.08),
    (MediaType.FILM, 0.06),
    (MediaType.MAGAZINE, 0.08),
]


@dataclass
class TitleSpec:
    """A title to add, with its popularity weight (relative demand)."""

    title: str
    author: str
    media_type: MediaType
    audience: Audience
    language: str
    year: int
    isbn: str | None


def _pick(rng: random.Random, choices: list[tuple]) -> object:
    u, total = rng.random(), 0.0
    for value, share in choices:
        total += share
        if u < total:
            return value
    return choices[-1][0]


def title_weight(seed: int, title_id: int, catalogue_size: int) -> float:
    """A title's popularity: the Zipf weight of a rank drawn uniformly from the catalogue's
    size (fixed by seed and id, so a resumed run sees the same popularity)."""
    rank = 1 + int(unit(seed, "title-rank", title_id) * catalogue_size)
    return 1.0 / rank**ZIPF_EXPONENT


def make_titles(
    rng: random.Random, count: int, authors: list[str], year: int, first_number: int = 1
) -> list[TitleSpec]:
    """`count` new titles (their popularity comes from title_weight once they have ids)."""
    specs = []
    for number in range(first_number, first_number + count):
        child = rng.random() < CHILDREN_SHARE
        audience = Audience.CHILD if child else Audience.ADULT
        media = _pick(rng, _MEDIA)
        language = "sv" if child else _pick(rng, [*_LANGUAGES, ("sv", 1.0)])
        nouns = _CHILD_NOUNS if child else _NOUNS
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(nouns)}"
        if media == MediaType.MAGAZINE:
            name = f"Tidskriften {rng.choice(nouns).capitalize()} nr {number % 12 + 1}"
        isbn = (
            None
            if media in (MediaType.FILM, MediaType.MAGAZINE)
            else (f"978-91-{number % 100000:05d}-{rng.randrange(100):02d}-{rng.randrange(10)}")
        )
        specs.append(
            TitleSpec(
                title=f"{name} ({number})",
                author=rng.choice(authors),
                media_type=media,
                audience=audience,
                language=language,
                year=year - min(int(rng.expovariate(0.15)), 60),
                isbn=isbn,
            )
        )
    return specs


def allocate_copies(
    rng: random.Random, weights: list[float], budget: int, max_copies: int
) -> list[int]:
    """Copies of each title one municipality buys with `budget` items."""
    total = sum(weights) or 1.0
    depth = budget * DEPTH_SHARE
    copies = [min(max_copies, int(depth * w / total)) for w in weights]
    remaining = budget - sum(copies)
    # Breadth: one copy each of titles not yet held, favouring (weakly) the popular ones.
    candidates = [i for i, c in enumerate(copies) if c == 0]
    rng.shuffle(candidates)
    candidates.sort(key=lambda i: -(weights[i] ** 0.3) * rng.random())
    for index in candidates[: max(remaining, 0)]:
        copies[index] = 1
    remaining = budget - sum(copies)
    # More stock than titles: add further copies round the catalogue, popular first.
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    for index in itertools.islice(itertools.cycle(order), max(remaining, 0)):
        copies[index] += 1
    return copies


class PopularitySampler:
    """Draws titles in proportion to their popularity weight (by audience)."""

    def __init__(self, weighted: list[tuple[int, float, Audience]]):
        self._ids: dict[Audience, list[int]] = {a: [] for a in Audience}
        self._cumulative: dict[Audience, list[float]] = {a: [] for a in Audience}
        for title_id, weight, audience in weighted:
            cumulative = self._cumulative[audience]
            self._ids[audience].append(title_id)
            cumulative.append((cumulative[-1] if cumulative else 0.0) + weight)

    def draw(self, rng: random.Random, audience: Audience) -> int | None:
        cumulative = self._cumulative[audience]
        if not cumulative:
            return None
        index = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        return self._ids[audience][min(index, len(cumulative) - 1)]
