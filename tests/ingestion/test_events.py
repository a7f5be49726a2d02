"""Incremental landing of the event feed, on SQLite and PostgreSQL: only new events land,
every event exactly once, a rebuilt database or a changed key is refused, not mixed in."""

from __future__ import annotations

import shutil
from datetime import timedelta

import polars as pl
import pytest

from ingestion import check_feed_landing, extract_events
from ingestion.errors import (
    DatabaseRebuilt,
    LandingBusy,
    PseudonymKeyChanged,
    PseudonymKeyMissing,
    WatermarkAhead,
)
from ingestion.pseudonyms import DEMO_KEY_FILE
from ingestion.state import StateStore
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from tests.conftest import REFERENCE_DIR
from tests.ingestion.conftest import landed, landed_files, make_history, make_settings


def test_the_first_run_lands_every_event_once(settings, desk, history):
    report = extract_events(settings)

    total = desk.last_event_id()
    assert (report.watermark_before, report.watermark_after) == (0, total)
    assert report.rows_landed == total and report.rows_quarantined == 0
    events = landed(settings, "circulation_event")
    assert sorted(events["id"].to_list()) == list(range(1, total + 1))
    assert events["type"].to_list().count("checkout") == desk.event_types().count("checkout")
    assert check_feed_landing(settings).exactly_once


def test_an_incremental_run_lands_only_the_new_events(settings, desk, history):
    extract_events(settings)
    first_files = landed_files(settings)
    before = desk.last_event_id()
    make_history(desk, days=1)

    report = extract_events(settings)

    new = desk.last_event_id() - before
    assert new > 0
    assert (report.watermark_before, report.watermark_after) == (before, desk.last_event_id())
    assert report.rows_landed == new
    # The first run's files are untouched: nothing is rewritten, only added.
    after = landed_files(settings)
    assert {name: after[name] for name in first_files} == first_files
    assert check_feed_landing(settings).exactly_once


def test_running_twice_lands_nothing_twice(settings, history):
    extract_events(settings)
    files = landed_files(settings)

    again = extract_events(settings)

    assert again.rows_landed == 0 and again.batches == 0
    assert landed_files(settings) == files
    assert check_feed_landing(settings).exactly_once


def test_small_batches_land_the_same_events(settings, desk, history):
    report = extract_events(settings, batch_rows=7)

    assert report.batches == -(-desk.last_event_id() // 7)
    assert check_feed_landing(settings).exactly_once


def test_events_are_partitioned_by_their_local_date(settings, desk):
    desk.clock.set(desk.clock.now().replace(hour=21, minute=30))  # 23:30 in Stockholm (CEST)
    card = desk.patron()
    desk.clock.advance(timedelta(hours=1))  # 00:30 the next day in Stockholm, still 22:30 UTC
    desk.title()

    extract_events(settings)

    events = landed(settings, "circulation_event").sort("id")
    utc_days = events["occurred_at"].dt.date().to_list()
    assert utc_days[0] == utc_days[1]
    assert events["date"].to_list() == [utc_days[0], utc_days[0] + timedelta(days=1)]
    assert card


def test_timestamps_land_in_utc_at_microsecond_precision(settings, history):
    extract_events(settings)

    events = landed(settings, "circulation_event")
    assert events.schema["occurred_at"] == pl.Datetime("us", "UTC")
    assert events.schema["due_at"] == pl.Datetime("us", "UTC")
    assert events.schema["id"] == pl.Int64


def test_a_rebuilt_database_is_reported_not_mixed_in(settings, engine, desk, history):
    extract_events(settings)
    old_identity = StateStore(settings.landing_path).read().current_database_id
    files = landed_files(settings)
    schema.drop_all(engine)
    schema.init(engine, REFERENCE_DIR)  # `bibbla db init --reset`: a new identity, ids from 1
    make_history(desk, days=1)

    with pytest.raises(DatabaseRebuilt) as refused:
        extract_events(settings)

    assert refused.value.landed_database_id == old_identity
    assert "--full-refresh" in str(refused.value)
    assert landed_files(settings) == files  # nothing landed, nothing moved

    report = extract_events(settings, full_refresh=True)

    state = StateStore(settings.landing_path).read()
    assert state.current_database_id != old_identity
    assert state.databases[old_identity].superseded_to.startswith("_superseded/")
    assert report.rows_landed == desk.last_event_id()
    assert check_feed_landing(settings).exactly_once
    superseded = list((settings.landing_path / "_superseded").rglob("part-*.parquet"))
    assert {p.name for p in superseded} >= {
        name.rsplit("/", 1)[-1] for name in files if name.startswith("circulation_event/")
    }
    assert any("database rebuilt" in note for note in report.notes)


def test_a_full_refresh_lands_everything_again_for_the_same_database(settings, desk, history):
    extract_events(settings)

    report = extract_events(settings, full_refresh=True)

    assert report.watermark_before == 0
    assert report.rows_landed == desk.last_event_id()
    assert check_feed_landing(settings).exactly_once


def test_without_a_key_the_run_refuses(tmp_path, database_url, engine, history):
    settings = make_settings(tmp_path, database_url, pseudonym_key=None)

    with pytest.raises(PseudonymKeyMissing, match="BIBBLA_PSEUDONYM_KEY is not set"):
        extract_events(settings)

    assert not (settings.landing_path / "circulation_event").exists()


def test_demo_mode_generates_a_key_once_and_reuses_it(tmp_path, database_url, engine, desk):
    settings = make_settings(tmp_path, database_url, pseudonym_key=None, env="demo")
    desk.patron()
    extract_events(settings)
    key_file = settings.data_dir / DEMO_KEY_FILE
    key = key_file.read_text()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not str(key_file).startswith(str(settings.landing_path))
    desk.patron()

    extract_events(settings)  # the same key: no refusal for a changed key

    assert key_file.read_text() == key
    keys = landed(settings, "circulation_event")["patron_key"].to_list()
    assert len(set(keys)) == 2


def test_a_changed_key_is_refused(tmp_path, database_url, engine, history):
    extract_events(make_settings(tmp_path, database_url))
    changed = make_settings(tmp_path, database_url, pseudonym_key="another-key-0123456789abcdef")

    with pytest.raises(PseudonymKeyChanged):
        extract_events(changed)

    report = extract_events(changed, full_refresh=True)
    assert report.watermark_before == 0
    assert check_feed_landing(changed).exactly_once


def test_a_short_key_is_refused(tmp_path, database_url, engine):
    with pytest.raises(PseudonymKeyMissing, match="shorter than"):
        extract_events(make_settings(tmp_path, database_url, pseudonym_key="short"))


def test_a_second_run_at_the_same_time_is_refused(settings, history):
    with StateStore(settings.landing_path).lock(), pytest.raises(LandingBusy):
        extract_events(settings)


def test_a_database_restored_from_an_older_copy_is_refused(tmp_path, sqlite_engine, clock):
    from tests.operational.desk import Desk

    path = tmp_path / "operational.sqlite"
    settings = make_settings(tmp_path, f"sqlite:///{path}")
    desk = Desk(sqlite_engine, clock)
    desk.patron()
    sqlite_engine.dispose()
    shutil.copy(path, tmp_path / "backup.sqlite")
    desk.patron()
    extract_events(settings)
    sqlite_engine.dispose()
    shutil.copy(tmp_path / "backup.sqlite", path)  # same identity, fewer events
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"operational.sqlite{suffix}").unlink(missing_ok=True)

    with pytest.raises(WatermarkAhead, match="older copy"):
        extract_events(settings)


def test_an_uninitialised_database_is_reported(tmp_path):
    from ingestion.errors import OperationalDatabaseUnavailable

    empty = tmp_path / "empty.sqlite"
    create_database_engine(f"sqlite:///{empty}").connect().close()
    with pytest.raises(OperationalDatabaseUnavailable, match="bibbla db init"):
        extract_events(make_settings(tmp_path, f"sqlite:///{empty}"))
    with pytest.raises(OperationalDatabaseUnavailable, match="does not exist"):
        extract_events(make_settings(tmp_path, f"sqlite:///{tmp_path / 'missing.sqlite'}"))
