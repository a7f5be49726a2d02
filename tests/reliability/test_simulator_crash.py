"""kill -9 of the simulator in the middle of a run: each simulated day is one transaction,
so the database holds whole days only, with every change in the feed; `--resume` carries
on from the last finished day."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from sqlalchemy import select

from bibbla.config import PROJECT_ROOT
from operational.adapters import tables
from operational.adapters.database import create_database_engine
from tests.operational.invariants import feed_violations, state_violations
from tests.operational.replay import differences

pytestmark = pytest.mark.slow


def _simulate(url: str, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bibbla.cli", "simulate", "--db", url, *arguments],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _last_day(engine) -> date | None:
    try:
        with engine.connect() as c:
            return c.execute(select(tables.simulation_run.c.last_finished_day)).scalar()
    except Exception:  # not created yet
        return None


def test_a_killed_simulation_keeps_whole_days_and_resumes(database_url):
    engine = create_database_engine(database_url)
    process = _simulate(
        database_url,
        "--scale",
        "0.01",
        "--start",
        "2024-03-01",
        "--end",
        "2024-12-31",
        "--seed",
        "5",
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (_last_day(engine) or date.min) < date(2024, 3, 20):
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)  # in the middle of some day
    process.wait()
    killed_at = _last_day(engine)
    assert killed_at is not None and date(2024, 3, 20) <= killed_at < date(2024, 12, 31)
    assert state_violations(engine) == []
    assert feed_violations(engine) == []
    assert differences(engine) == []
    with engine.connect() as c:
        newest = c.execute(
            select(tables.circulation_event.c.occurred_at)
            .order_by(tables.circulation_event.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert newest.date() <= killed_at  # nothing of the day being simulated was kept

    resumed = _simulate(database_url, "--resume", "--days", "5")
    assert resumed.wait(timeout=300) == 0
    assert (_last_day(engine) - killed_at).days == 5
    assert state_violations(engine) == [] and differences(engine) == []
    engine.dispose()
