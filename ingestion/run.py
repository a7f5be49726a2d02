"""The frame every run that lands the lending core's data shares (events and snapshots).

Inside it: the pseudonym key is loaded, the landing's lock is held, the lending core is
read in one transaction, the landing is admitted for this database and key
(ingestion/guard.py), the feed is checked against the watermark and a killed run's
leftovers are recovered. When the run's body returns, the run is finished and logged; when
it raises, nothing is logged and the watermark is where the body left it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bibbla.config import Settings
from ingestion.guard import admit, check_feed
from ingestion.landing import Landing
from ingestion.pseudonyms import key_fingerprint, load_key
from ingestion.report import RunReport
from ingestion.source import DatabaseIdentity, FeedPosition, OperationalSource, now_utc
from ingestion.state import LandingState, StateStore


@dataclass
class LandingRun:
    key: bytes
    landing: Landing
    store: StateStore
    report: RunReport
    source: OperationalSource
    identity: DatabaseIdentity
    state: LandingState
    position: FeedPosition


@contextmanager
def landing_run(
    settings: Settings, step: str, *, full_refresh: bool = False
) -> Iterator[LandingRun]:
    """Run `step` (events or snapshots) inside the frame above; yields what it needs."""
    key = load_key(settings)
    landing = Landing(settings.landing_path)
    store = StateStore(landing.root)
    report = RunReport(step, started_at=now_utc(), full_refresh=full_refresh)
    with store.lock(), OperationalSource(settings.operational_db_url) as source:
        identity = source.identity()
        report.database_id = identity.database_id
        state, notes, moved = admit(
            store, landing, identity, key_fingerprint(key), full_refresh=full_refresh
        )
        report.notes += notes
        position = source.feed_position()
        check_feed(state, position)
        report.recovery = landing.recover(identity.database_id, state.watermark)
        report.recovery.folders_moved_aside = moved
        yield LandingRun(key, landing, store, report, source, identity, state, position)
    report.finished_at = now_utc()
    store.log_run(report.to_dict())
