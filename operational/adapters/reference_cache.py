"""The reference data an API worker keeps in memory: the consortium (membership timeline,
branches, van routes), the circulation rules and the collections, which every checkout
and return asks for and which change a few times a year.

Kept per process and checked on every unit of work that uses it: one statement reads the
`reference_version` row, which every change of those tables moves in its own transaction
(unit_of_work.py, reference_data.py). A different version, or none, and the data is read
again in the unit of work's own transaction, so a membership or rule change is seen by
the next request in every worker, as if there were no cache."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from operational.adapters.tables import reference_version
from operational.domain.model import Branch, CirculationRule, Collection, MediaType, PatronCategory
from operational.domain.rules import Consortium


@dataclass(frozen=True)
class ReferenceSnapshot:
    """The reference data as of one version (None: the database has no version row, and
    the snapshot is used by one unit of work only)."""

    version: int | None
    consortium: Consortium
    branches: list[Branch]  # ordered by code
    rules: dict[tuple[MediaType, PatronCategory], CirculationRule]
    collections: dict[str, Collection]


class ReferenceCache:
    """One worker's snapshot, shared by its threads."""

    def __init__(self) -> None:
        self._snapshot: ReferenceSnapshot | None = None
        self._lock = threading.Lock()

    def current(self, session: Session, load) -> ReferenceSnapshot:
        """The snapshot for the version the session's transaction sees; load(session,
        version) reads a new one when the kept one is older (or there is none)."""
        version = current_version(session)
        kept = self._snapshot
        if version is not None and kept is not None and kept.version == version:
            return kept
        fresh = load(session, version)
        if version is not None:
            with self._lock:
                # Two threads may read a new version at once: the newer snapshot stays.
                if self._snapshot is None or self._snapshot.version < version:
                    self._snapshot = fresh
        return fresh


def current_version(session: Session) -> int | None:
    return session.execute(select(reference_version.c.version)).scalar_one_or_none()


def mark_changed(connection) -> None:
    """Move the version, in the transaction that changes the reference data: every
    worker's cache reads the data again on its next request."""
    connection.execute(update(reference_version).values(version=reference_version.c.version + 1))
