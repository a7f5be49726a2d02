"""The landing's state: which database it belongs to and how far its feed is landed.

Kept beside the data it describes (`landing/_state/ingestion.json`), so that a landing
folder moved or copied elsewhere carries its own watermark. The watermark is kept per
database identity (docs/domain.md): a lending-core database rebuilt by `bibbla db init` has a
new identity and its ids start again, so a watermark is only ever compared with the
database it was taken from.

The state is the commit point of ingestion: data files are durable before the state that
counts them is written, and the state is replaced atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingestion import faults, files
from ingestion.errors import LandingBusy

STATE_FOLDER = "_state"
STATE_FILE = "ingestion.json"
RUN_LOG = "runs.jsonl"
LOCK_FILE = "lock"
FORMAT = 1


@dataclass
class DatabaseState:
    """What the landing knows about one lending-core database."""

    event_watermark: int = 0
    first_seen_at: str | None = None
    last_events_run_at: str | None = None
    last_snapshot_as_of: str | None = None
    superseded_at: str | None = None
    superseded_to: str | None = None


@dataclass
class PendingRefresh:
    """A full refresh that has started moving the old landing aside but not finished."""

    database_id: str
    key_fingerprint: str
    superseded_to: str
    started_at: str


@dataclass
class LandingState:
    current_database_id: str | None = None
    pseudonym_key_fingerprint: str | None = None
    databases: dict[str, DatabaseState] = field(default_factory=dict)
    pending_refresh: PendingRefresh | None = None

    def database(self, database_id: str) -> DatabaseState:
        return self.databases.setdefault(database_id, DatabaseState())

    @property
    def watermark(self) -> int:
        """The committed event watermark of the current database (0 when none)."""
        if self.current_database_id is None:
            return 0
        return self.database(self.current_database_id).event_watermark

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "current_database_id": self.current_database_id,
            "pseudonym_key_fingerprint": self.pseudonym_key_fingerprint,
            "databases": {key: asdict(value) for key, value in self.databases.items()},
            "pending_refresh": asdict(self.pending_refresh) if self.pending_refresh else None,
        }

    @classmethod
    def from_json(cls, document: dict) -> LandingState:
        pending = document.get("pending_refresh")
        return cls(
            current_database_id=document.get("current_database_id"),
            pseudonym_key_fingerprint=document.get("pseudonym_key_fingerprint"),
            databases={
                key: DatabaseState(**value)
                for key, value in (document.get("databases") or {}).items()
            },
            pending_refresh=PendingRefresh(**pending) if pending else None,
        )


class StateStore:
    """Reads and commits the landing state; holds the lock that serialises runs."""

    def __init__(self, landing_root: Path):
        self.folder = landing_root / STATE_FOLDER
        self.path = self.folder / STATE_FILE

    def read(self) -> LandingState:
        if not self.path.exists():
            return LandingState()
        return LandingState.from_json(json.loads(self.path.read_text(encoding="utf-8")))

    def commit(self, state: LandingState) -> None:
        """Replace the state atomically and durably (the commit point of a batch)."""
        files.write_json(state.to_json(), self.path, fault=faults.STATE_WRITTEN)

    def log_run(self, report: dict) -> None:
        """Append a run's report to the run log (an audit trail, not needed for recovery)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / RUN_LOG).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(report, default=str, sort_keys=True) + "\n")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive use of the landing for one run; a second run is refused, not queued."""
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LandingBusy(
                    f"another ingestion run is using {self.folder.parent}; try again when it ends"
                ) from None
            yield
        finally:
            os.close(descriptor)
