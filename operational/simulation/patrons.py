"""Simulated residents who hold a library card: who they are (made-up personal data, so
privacy checks downstream have something real to catch) and how often they borrow.

Activity is heavy-tailed: each patron's yearly number of visits is log-normal, so most
cardholders rarely or never borrow and a core of heavy borrowers makes most of the loans.
The log-normal's location is solved per municipality so that the expected share of
inhabitants with at least one loan in a year meets the calibration target.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

from faker import Faker

from operational.simulation.randomness import unit

ACTIVITY_SIGMA = 1.3
# Children borrow more often than adults: about a quarter of active borrowers are under 18.
CHILD_ACTIVITY = 1.3
# Cardholders move away or stop borrowing; new ones register at the same rate.
MEAN_MEMBERSHIP_YEARS = 30
_NORMAL = NormalDist()
_AGE_RANGE = {
    "0-15": (0, 15),
    "16-24": (16, 24),
    "25-44": (25, 44),
    "45-64": (45, 64),
    "65+": (65, 94),
}


def activity_z(seed: int, patron_id: int) -> float:
    """The patron's standard-normal activity score (fixed by seed and id)."""
    u = min(max(unit(seed, "activity", patron_id), 1e-9), 1 - 1e-9)
    return _NORMAL.inv_cdf(u)


def visits_per_year(mu: float, z: float, child: bool) -> float:
    return math.exp(mu + ACTIVITY_SIGMA * z) * (CHILD_ACTIVITY if child else 1.0)


def solve_activity_location(scores: list[tuple[float, bool]], target_active: float) -> float:
    """The log-normal location μ for which the expected number of patrons with at least
    one visit in a year, Σ (1 − e^(−visits)), equals target_active."""
    if not scores:
        return 0.0
    target = min(target_active, 0.98 * len(scores))

    def expected_active(mu: float) -> float:
        return sum(1 - math.exp(-visits_per_year(mu, z, child)) for z, child in scores)

    low, high = -15.0, 10.0
    for _ in range(80):
        middle = (low + high) / 2
        if expected_active(middle) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def leaves_on(seed: int, patron_id: int, registered: date) -> date:
    """The day the patron moves away or stops borrowing for good."""
    u = max(unit(seed, "leaves", patron_id), 1e-12)
    return registered + timedelta(days=int(-math.log(u) * MEAN_MEMBERSHIP_YEARS * 365.25))


@dataclass
class PersonalData:
    name: str
    email: str
    phone: str
    birth_date: date


class PeopleFactory:
    """Made-up Swedish names, e-mail addresses, phone numbers and birth dates (Faker's
    Swedish locale builds the name pools once; combining them is fast)."""

    def __init__(self, seed: int):
        faker = Faker("sv_SE")
        faker.seed_instance(seed)
        self.first_names = sorted({faker.first_name() for _ in range(600)})
        self.last_names = sorted({faker.last_name() for _ in range(600)})
        # Authors come from Nordic neighbours' name pools, and never share a surname with a
        # patron: a privacy scan that finds a patron's name in the catalogue must mean a leak.
        authors = Faker(["no_NO", "da_DK", "fi_FI"])
        authors.seed_instance(seed + 1)
        patron_surnames = set(self.last_names)
        self.author_first_names = sorted({authors.first_name() for _ in range(400)})
        self.author_last_names = sorted({authors.last_name() for _ in range(800)} - patron_surnames)

    def author(self, rng: random.Random) -> str:
        return f"{rng.choice(self.author_first_names)} {rng.choice(self.author_last_names)}"

    def person(self, rng: random.Random, age_band: str, today: date) -> PersonalData:
        first, last = rng.choice(self.first_names), rng.choice(self.last_names)
        low, high = _AGE_RANGE[age_band]
        age = rng.randint(low, high)
        birth = today - timedelta(days=int((age + rng.random()) * 365.25))
        handle = f"{first}.{last}{rng.randrange(1000)}".lower()
        handle = handle.translate(str.maketrans("åäöé ", "aaoe-"))
        return PersonalData(
            name=f"{first} {last}",
            email=f"{handle}@example.se",
            phone=f"07{rng.randrange(10)}-{rng.randrange(1000000, 9999999)}",
            birth_date=birth,
        )
