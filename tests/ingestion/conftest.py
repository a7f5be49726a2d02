"""Fixtures for ingestion: settings pointing at a throwaway landing, and a small history of
circulation made through the lending core's real use cases (tests/operational/desk.py)."""

from __future__ import annotations

import glob
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, text, update

from bibbla.config import Settings
from operational.adapters import tables
from operational.domain.model import PatronCategory
from tests.conftest import REFERENCE_DIR, local
from tests.operational.desk import KUMLA, LINDESBERG, NORA, Desk
from tests.settings import settings_under

KEY = "test-pseudonym-key-0123456789abcdef"


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    """Settings for one test: its own data and landing folders, a known key."""
    values = {
        "landing": tmp_path / "landing",
        "operational_db": database_url,
        "reference_dir": REFERENCE_DIR,
        "ingest_batch_rows": 1000,
        **overrides,
    }
    return settings_under(tmp_path, values.pop("pseudonym_key", KEY), **values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, engine) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def desk(engine, clock) -> Desk:
    return Desk(engine, clock)


@dataclass
class Patron:
    card: str
    name: str
    email: str
    phone: str
    birth_date: date

    def personal_values(self) -> list[str]:
        return [self.card, self.name, self.email, self.phone, self.birth_date.isoformat()]


@dataclass
class History:
    """What a test history made: its patrons (with their personal data) and items."""

    patrons: list[Patron] = field(default_factory=list)
    titles: list[int] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


PEOPLE = [
    (
        "Astrid Testsson-Lindqvist",
        "astrid.testsson@example.se",
        "+46 70 111 22 33",
        date(1957, 3, 14),
    ),
    ("Bertil Provsson", "bertil.provsson@example.se", "+46 73 444 55 66", date(1989, 11, 2)),
    ("Cecilia Exempeldotter", "cecilia.e@example.se", "+46 76 777 88 99", date(2014, 7, 21)),
]


def make_history(desk: Desk, days: int = 3) -> History:
    """Patrons of three municipalities borrowing, returning away, holding and transporting
    over several days (so that events fall on several local dates)."""
    history = History()
    homes = [
        (NORA, PatronCategory.ADULT),
        (LINDESBERG, PatronCategory.ADULT),
        (KUMLA, PatronCategory.CHILD),
    ]
    for (name, email, phone, born), (home, category) in zip(PEOPLE, homes, strict=True):
        card = desk.patron(home, category, name=name, email=email, phone=phone, birth_date=born)
        history.patrons.append(Patron(card, name, email, phone, born))
    for _ in range(days):
        title = desk.title()
        history.titles.append(title)
        nora_copy, lind_copy = desk.item(title, "NORA"), desk.item(title, "LIND")
        history.items += [nora_copy, lind_copy]
        first, second, third = (p.card for p in history.patrons)
        loan = desk.checkout(first, nora_copy, "NORA")
        desk.checkout(second, lind_copy, "LIND")
        desk.clock.advance(timedelta(hours=2))
        desk.renew(loan.id)
        hold = desk.hold(third, title, "KUM")  # no copy free: the hold waits
        desk.clock.advance(timedelta(hours=18))
        desk.checkin(lind_copy, "LIND")  # trapped for the waiting hold, sent to Kumla
        desk.checkin(nora_copy, "LIND")  # returned away: sent home
        desk.deliver(_open_transport_for(desk, hold.id), days=1)  # ready at Kumla
        desk.checkout(third, lind_copy, "KUM")  # picked up: the hold is fulfilled
        desk.clock.advance(timedelta(hours=4))
    return history


def _open_transport_for(desk: Desk, hold_id: int) -> int:
    with desk.engine.connect() as connection:
        return connection.execute(
            text("SELECT id FROM transport WHERE hold_id = :h AND received_at IS NULL"),
            {"h": hold_id},
        ).scalar_one()


@pytest.fixture
def history(desk: Desk) -> History:
    return make_history(desk)


def landed(settings: Settings, table: str, quarantine: bool = False) -> pl.DataFrame:
    """Every landed row of a table (with `date` from the path for partitioned tables)."""
    folder = settings.landing_path / ("_quarantine" if quarantine else "") / table
    paths = sorted(glob.glob(str(folder / "**" / "*.parquet"), recursive=True))
    if not paths:
        return pl.DataFrame()
    return pl.concat(
        [pl.read_parquet(path, hive_partitioning="date=" in path) for path in paths],
        how="diagonal_relaxed",
    )


def landed_files(settings: Settings) -> dict[str, float]:
    """Every file in the landing (except the state and lock) with its modification time."""
    root = settings.landing_path
    return {
        str(path.relative_to(root)): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file() and path.parts[len(root.parts)] != "_state"
    }


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A copy of the project's reference folder that a test may break."""
    target = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, target)
    return target


def clock_at(desk: Desk, *args) -> None:
    desk.clock.set(local(*args))


# ------------------------------------------------------- rows behind the lending core's back

NOW = datetime(2025, 6, 2, 8, tzinfo=UTC)
EMPTY_EVENT = {
    **{column.name: None for column in tables.circulation_event.columns},
    "occurred_at": NOW,
    "details": {},
}


def append_events(engine, rows: list[dict]) -> list[int]:
    """Append raw rows to the feed behind the lending core's back, with proper ids."""
    with engine.begin() as connection:
        last = connection.execute(select(tables.feed_counter.c.last_id)).scalar_one()
        ids = list(range(last + 1, last + 1 + len(rows)))
        connection.execute(
            tables.circulation_event.insert(),
            [{**EMPTY_EVENT, **row, "id": i} for i, row in zip(ids, rows, strict=True)],
        )
        connection.execute(update(tables.feed_counter).values(last_id=ids[-1]))
    return ids
