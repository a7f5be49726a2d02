"""Killed at a named point and run again, ingestion loses nothing and lands nothing twice.

Each test runs `python -m ingestion.cli …` in a subprocess that kills itself with SIGKILL
(no clean-up of any kind) the n-th time it passes a fault point (ingestion/faults.py), adds
more events to the lending core meanwhile, runs ingestion again and checks that the landed
feed is exactly ids 1..watermark, that the watermark reached the feed's end and that no
temporary file is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import polars as pl
import pytest

from bibbla.config import PROJECT_ROOT
from ingestion import check_feed_landing, extract_events, land_reference, land_snapshots
from ingestion.contract import REFERENCE_TABLES, SNAPSHOT_TABLES
from ingestion.faults import FAULT_ENV
from ingestion.state import StateStore
from tests.ingestion.conftest import KEY, landed, make_history, make_settings

BATCH_ROWS = 4


def run_killed(settings, *arguments: str, fault: str) -> subprocess.CompletedProcess:
    """Run the ingestion CLI in a subprocess that kills itself at `fault`."""
    environment = {
        **os.environ,
        "BIBBLA_ENV": "test",
        "BIBBLA_DATA_DIR": str(settings.data_dir),
        "BIBBLA_LANDING": str(settings.landing_path),
        "BIBBLA_OPERATIONAL_DB": settings.operational_db_url,
        "BIBBLA_PSEUDONYM_KEY": KEY,
        "BIBBLA_REFERENCE_DIR": str(settings.reference_dir),
        FAULT_ENV: fault,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "ingestion.cli", *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == -signal.SIGKILL, (
        f"expected a kill at {fault}, got exit {completed.returncode}:\n{completed.stderr}"
    )
    return completed


def assert_no_temporary_files(settings) -> None:
    leftovers = [p for p in settings.landing_path.rglob("*.tmp") if "_superseded" not in p.parts]
    assert leftovers == []


@pytest.mark.parametrize(
    ("fault", "temporary_left", "uncommitted_left"),
    [
        ("state-written:1", True, False),  # the first run's state, before anything landed
        ("file-written:2", True, False),  # a batch file written, not yet renamed
        ("file-renamed:2", False, True),  # a batch file renamed, its batch not committed
        ("batch-landed:2", False, True),  # a whole batch in place, the watermark not committed
        ("state-written:3", True, True),  # the new watermark written, not renamed into place
        ("watermark-committed:2", False, False),  # between two batches
    ],
)
def test_a_killed_event_run_loses_and_doubles_nothing(
    settings, desk, history, fault, temporary_left, uncommitted_left
):
    run_killed(settings, "events", "--batch-rows", str(BATCH_ROWS), fault=fault)
    make_history(desk, days=1)  # the lending core goes on meanwhile

    report = extract_events(settings, batch_rows=BATCH_ROWS)

    assert (report.recovery.temporary_files_removed > 0) == temporary_left
    assert (report.recovery.uncommitted_files_removed > 0) == uncommitted_left
    check = check_feed_landing(settings)
    assert check.exactly_once, check
    assert check.watermark == desk.last_event_id()
    assert_no_temporary_files(settings)
    assert report.rows_landed + report.rows_quarantined == desk.last_event_id() - (
        report.watermark_before or 0
    )


def test_a_batch_killed_between_its_renames_is_landed_again_whole(settings, desk):
    """A batch spanning two local dates writes two files; killed after the first rename,
    one file of an uncommitted batch is visible. The next run removes it and lands the
    batch again (with a different end, since the feed grew)."""
    desk.clock.set(desk.clock.now().replace(hour=20))  # 22:00 in Stockholm
    desk.patron()
    desk.patron()
    desk.clock.advance(timedelta(hours=4))  # 02:00 the next day in Stockholm
    desk.patron()
    desk.patron()

    run_killed(settings, "events", "--batch-rows", "4", fault="file-renamed:1")

    visible = list((settings.landing_path / "circulation_event").rglob("*.parquet"))
    assert len(visible) == 1 and StateStore(settings.landing_path).read().watermark == 0
    desk.patron()
    report = extract_events(settings, batch_rows=10)
    assert report.recovery.uncommitted_files_removed == 1
    assert check_feed_landing(settings).exactly_once
    assert landed(settings, "circulation_event")["date"].n_unique() == 2


def test_a_full_refresh_killed_while_moving_aside_is_finished_by_the_next_run(
    settings, desk, history
):
    extract_events(settings)
    land_snapshots(settings)

    run_killed(settings, "events", "--full-refresh", fault="superseded-moved:1")

    state = StateStore(settings.landing_path).read()
    assert state.pending_refresh is not None
    extract_events(settings)  # no flag needed: the refresh was already decided
    assert StateStore(settings.landing_path).read().pending_refresh is None
    assert check_feed_landing(settings).exactly_once
    assert not list(settings.landing_path.glob("item/*/*.parquet"))  # moved aside


@pytest.mark.parametrize("fault", ["file-written:3", "file-renamed:3"])
def test_a_killed_snapshot_leaves_one_whole_snapshot_per_table(settings, desk, history, fault):
    extract_events(settings)
    run_killed(settings, "snapshots", fault=fault)

    land_snapshots(settings)

    assert_no_temporary_files(settings)
    for table in SNAPSHOT_TABLES:
        files = list((settings.landing_path / table.name).rglob("*.parquet"))
        assert len(files) == 1, (table.name, files)
    items = landed(settings, "item")
    assert items.height == len(history.items)
    assert items["snapshot_event_id"].unique().to_list() == [desk.last_event_id()]


def test_a_killed_reference_run_is_repaired_by_the_next(tmp_path):
    settings = make_settings(tmp_path, "sqlite:///not-read-by-the-reference-step")
    run_killed(settings, "reference", fault="file-renamed:2")

    land_reference(settings)

    assert_no_temporary_files(settings)
    for table in REFERENCE_TABLES:
        frame = pl.read_parquet(settings.landing_path / table.name / "reference.parquet")
        assert frame.columns == table.column_names
