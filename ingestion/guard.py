"""Whether a run may land into this landing: same database, same pseudonym key.

The landing belongs to one lending-core database at a time. Three situations stop a run
with a message instead of landing something that would not join with what is there:
- the database is a different one (rebuilt by `bibbla db init --reset`, restored, or
  another URL): its ids start again, so the watermark of the old one means nothing;
- the pseudonym key changed: new pseudonyms would not match the landed ones;
- the database has fewer events than the watermark (restored from an older backup).
`--full-refresh` resolves the first two: it moves the whole landing of events and
snapshots to `_superseded/<stamp>/` (nothing is deleted) and lands again from id 1.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ingestion.errors import DatabaseRebuilt, PseudonymKeyChanged, WatermarkAhead
from ingestion.landing import SUPERSEDED, Landing
from ingestion.source import DatabaseIdentity, FeedPosition
from ingestion.state import LandingState, PendingRefresh, StateStore


def _now() -> str:
    return datetime.now(UTC).isoformat()


def admit(
    store: StateStore,
    landing: Landing,
    identity: DatabaseIdentity,
    key_fingerprint: str,
    *,
    full_refresh: bool,
) -> tuple[LandingState, list[str], int]:
    """Check (and on a full refresh, reset) the landing for this database and key.

    Returns the committed state, notes for the run report, and how many folders a full
    refresh moved aside. Raises DatabaseRebuilt or PseudonymKeyChanged when the landing
    cannot take this database's data without a full refresh.
    """
    state = store.read()
    notes: list[str] = []
    moved = _finish_pending_refresh(store, landing, state, notes)

    current = state.current_database_id
    known_key = state.pseudonym_key_fingerprint
    if current is None:
        state.current_database_id = identity.database_id
        state.pseudonym_key_fingerprint = key_fingerprint
        state.database(identity.database_id).first_seen_at = _now()
        store.commit(state)
        return state, notes, moved

    if not full_refresh:
        if current != identity.database_id:
            landed = state.database(current)
            raise DatabaseRebuilt(
                f"The lending core is a different database (identity {identity.database_id}) "
                f"from the one this landing holds (identity {current}, events up to id "
                f"{landed.event_watermark}). A rebuilt database starts its ids again, so "
                "landing it on top would mix two histories. Run `bibbla ingest "
                "--full-refresh` to move the old landing to "
                f"{landing.root / SUPERSEDED}/ and land this database from the start.",
                landed_database_id=current,
                current_database_id=identity.database_id,
            )
        if known_key is not None and known_key != key_fingerprint:
            raise PseudonymKeyChanged(
                "BIBBLA_PSEUDONYM_KEY differs from the key the landed pseudonyms were made "
                "with; new pseudonyms would not join with them. Restore the old key, or run "
                "`bibbla ingest --full-refresh` to land everything again with the new key."
            )
        return state, notes, moved

    # A full refresh: move the whole event and snapshot landing aside, then start again.
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{current}"
    state.pending_refresh = PendingRefresh(identity.database_id, key_fingerprint, stamp, _now())
    store.commit(state)
    if current != identity.database_id:
        notes.append(
            f"database rebuilt: landing of {current} moved to {SUPERSEDED}/{stamp}/; "
            f"landing {identity.database_id} from the start"
        )
    else:
        notes.append(f"full refresh: previous landing moved to {SUPERSEDED}/{stamp}/")
    moved += _finish_pending_refresh(store, landing, state, notes)
    return state, notes, moved


def _finish_pending_refresh(
    store: StateStore, landing: Landing, state: LandingState, notes: list[str]
) -> int:
    """Complete a full refresh that was decided (and perhaps interrupted) earlier."""
    pending = state.pending_refresh
    if pending is None:
        return 0
    moved = landing.move_aside(pending.superseded_to)
    old = state.current_database_id
    if old is not None and old != pending.database_id:
        record = state.database(old)
        record.superseded_at = _now()
        record.superseded_to = f"{SUPERSEDED}/{pending.superseded_to}"
    new = state.database(pending.database_id)
    new.event_watermark = 0
    new.last_snapshot_as_of = None
    new.first_seen_at = new.first_seen_at or _now()
    state.current_database_id = pending.database_id
    state.pseudonym_key_fingerprint = pending.key_fingerprint
    state.pending_refresh = None
    store.commit(state)
    if moved:
        notes.append(f"moved {moved} folder(s) to {SUPERSEDED}/{pending.superseded_to}/")
    return moved


def check_feed(state: LandingState, position: FeedPosition) -> None:
    """Refuse when the landing has events this database does not (an older backup)."""
    if position.last_event_id < state.watermark:
        raise WatermarkAhead(
            f"The landing holds events up to id {state.watermark} of database "
            f"{state.current_database_id}, but that database's feed ends at id "
            f"{position.last_event_id}: it was restored from an older copy or changed by "
            "hand. Run `bibbla ingest --full-refresh` to land it again."
        )
