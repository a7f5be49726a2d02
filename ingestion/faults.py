"""Named fault points: where a crash test may kill ingestion on purpose.

Ingestion promises that killing it at any moment and running it again loses nothing and
lands nothing twice. The tests prove it by setting `BIBBLA_INGEST_FAULT=<point>[:<n>]`
and letting the process kill itself with SIGKILL (no clean-up, no `finally`, exactly like
`kill -9` or a power cut after the page cache is flushed) at the n-th time it passes that
point. Unset, a fault point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

FAULT_ENV = "BIBBLA_INGEST_FAULT"

# After a Parquet file is written and flushed to its temporary name, before the rename.
FILE_WRITTEN = "file-written"
# After one file of a batch is renamed into place (others of the batch may still wait).
FILE_RENAMED = "file-renamed"
# After every file of a batch of events is in place, before the watermark is committed.
BATCH_LANDED = "batch-landed"
# After the new state (watermark) is written to its temporary name, before the rename.
STATE_WRITTEN = "state-written"
# After the watermark of a batch is committed, before the next batch is read.
WATERMARK_COMMITTED = "watermark-committed"
# After a superseded file (from a rebuilt database) is moved aside during a full refresh.
SUPERSEDED_MOVED = "superseded-moved"

POINTS = (
    FILE_WRITTEN,
    FILE_RENAMED,
    BATCH_LANDED,
    STATE_WRITTEN,
    WATERMARK_COMMITTED,
    SUPERSEDED_MOVED,
)

_passes: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if `BIBBLA_INGEST_FAULT` names this point (and count)."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
