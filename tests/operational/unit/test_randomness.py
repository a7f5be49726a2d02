"""The simulator's shortcuts through the random module draw exactly what it would."""

from __future__ import annotations

import random
from itertools import accumulate

from operational.simulation.randomness import weighted_choice


def test_weighted_choice_draws_what_choices_draws_from_the_same_stream() -> None:
    branches = ["Nora", "Järnboås", "Pershyttan"]
    weights = [41.3, 7.0, 0.3 * 12 + 1]  # a branch's weight: staffed + 0.3 × staffless + 1
    cumulative = list(accumulate(weights))
    ours, theirs = random.Random("42:populate"), random.Random("42:populate")
    drawn = [weighted_choice(ours, branches, cumulative) for _ in range(5000)]
    assert drawn == [theirs.choices(branches, weights)[0] for _ in range(5000)]
    assert ours.random() == theirs.random()  # and took as much from the stream
    assert set(drawn) == set(branches)  # the smallest weight is drawn too


def test_weighted_choice_of_one_is_that_one() -> None:
    assert weighted_choice(random.Random(1), ["Laxå"], [5.0]) == "Laxå"
