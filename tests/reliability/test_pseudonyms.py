"""Pseudonyms: the same patron gets the same key in every run with the same secret key
(so history joins up), and an entirely different one under another key (so a leaked
landing cannot be joined with another made with a different key)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from bibbla.config import Settings
from ingestion import extract_events
from operational.clock import SimulatedClock
from tests.conftest import local
from tests.operational.desk import Desk

KEY_A = "first-pseudonym-key-0123456789abcdef"
KEY_B = "second-pseudonym-key-0123456789abcdef"


def _patron_keys(engine, landing: Path, key: str) -> dict[int, str]:
    settings = Settings(
        env="test",
        data_dir=landing.parent,
        landing=landing,
        operational_db=str(engine.url),
        pseudonym_key=key,
    )
    extract_events(settings)
    events = pl.read_parquet(landing / "circulation_event" / "**" / "*.parquet")
    checkouts = events.filter(pl.col("type") == "checkout")
    return dict(zip(checkouts["loan_id"].to_list(), checkouts["patron_key"].to_list(), strict=True))


def test_same_key_same_pseudonyms_other_key_other_pseudonyms(sqlite_engine, tmp_path):
    desk = Desk(sqlite_engine, SimulatedClock(local(2025, 6, 2, 9)))
    title = desk.title()
    for _ in range(12):
        card = desk.patron("1884")
        desk.checkout(card, desk.item(title, "NORA"), "NORA")
    first = _patron_keys(sqlite_engine, tmp_path / "a" / "landing", KEY_A)
    again = _patron_keys(sqlite_engine, tmp_path / "a2" / "landing", KEY_A)
    other = _patron_keys(sqlite_engine, tmp_path / "b" / "landing", KEY_B)
    assert len(first) == 12 and len(set(first.values())) == 12
    assert first == again
    assert set(first) == set(other)
    assert not set(first.values()) & set(other.values())
