"""Keeping Python's cyclic garbage collector out of the simulator's way.

The simulator makes no cyclic garbage worth collecting (none was found over 35 days at a
quarter of the population, nor while populating), but it creates and keeps hundreds of
thousands of long-lived objects: the collector's young-generation passes (every 700 new
containers) and the full passes they trigger would only walk live objects again and
again (some 8 % of a simulated day's time; 3 of the 25 s of populating the consortium at
full scale, 15 full passes collecting nothing). So while it runs, a young-generation pass
waits for 100 000 new containers, and what is kept is frozen (moved out of the
collector's sight) whenever a batch of work is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GENERATION_THRESHOLD = 100_000


@contextmanager
def rare_collections() -> Iterator[None]:
    """Collect young objects only every 100 000 new containers; freeze what is kept on
    leaving. The previous thresholds are restored however the block ends."""
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *threshold[1:])
    try:
        yield
        gc.freeze()
    finally:
        gc.set_threshold(*threshold)
