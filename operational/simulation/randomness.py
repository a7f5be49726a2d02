"""Deterministic randomness. Decisions about one entity (how long a loan is kept, when a
hold is picked up) are drawn from a hash of the seed, a purpose and the entity's id, so
they come out the same whether a run is continuous or resumed from the database."""

from __future__ import annotations

import random
import zlib
from bisect import bisect
from collections.abc import Sequence
from datetime import date
from functools import cache

_MASK = (1 << 64) - 1


@cache
def _purpose_code(purpose: str) -> int:
    return zlib.crc32(purpose.encode())


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(seed: int, purpose: str, key: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, purpose, key): SplitMix64 over the hash
    of the three integers (a tuple of ints hashes the same in every 64-bit CPython
    process, unlike a string; SplitMix64 removes the tuple hash's correlations)."""
    x = ((hash((seed, _purpose_code(purpose), key)) & _MASK) + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2**64  # _splitmix64, written out: this runs for every decision


def day_rng(seed: int, day: date, purpose: str = "day") -> random.Random:
    """The random stream of one simulated day (seeding with a string is stable across
    Python processes, unlike hash())."""
    return random.Random(f"{seed}:{purpose}:{day.isoformat()}")


def weighted_choice(rng: random.Random, population: Sequence, cumulative: Sequence[float]):
    """What `rng.choices(population, cum_weights=cumulative)[0]` draws (the same number
    taken from the stream, the same element), without its per-call checks and list: it
    runs for every copy bought and every cardholder registered."""
    return population[
        bisect(cumulative, rng.random() * (cumulative[-1] + 0.0), 0, len(population) - 1)
    ]
