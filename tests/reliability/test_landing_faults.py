"""Ingestion when the landing cannot take the data: a full disk or a read-only landing
folder makes the run fail with a clear message and keep its watermark, so the next run,
with space again, lands everything exactly once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bibbla.config import Settings
from ingestion import check_feed_landing, extract_events
from ingestion.errors import LandingUnwritable
from operational.clock import SimulatedClock
from tests.conftest import local
from tests.operational.desk import Desk

pytestmark = pytest.mark.slow
KEY = "reliability-test-pseudonym-key-0123456789"


def _mount(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        if os.environ.get("BIBBLA_REQUIRE_POSTGRES"):  # i.e. under CI, which runs as root
            pytest.fail(f"could not mount a tmpfs for the landing: {result.stderr}")
        pytest.skip(f"mounting a tmpfs needs root: {result.stderr.strip()}")


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def history(sqlite_engine):
    desk = Desk(sqlite_engine, SimulatedClock(local(2025, 6, 2, 9)))
    title = desk.title()
    for _ in range(40):
        card = desk.patron("1884")
        barcode = desk.item(title, "NORA")
        desk.checkout(card, barcode, "NORA")
    return desk


def _settings(engine, landing: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=landing.parent,
        landing=landing,
        operational_db=str(engine.url),
        pseudonym_key=KEY,
    )


def _fill(folder: Path) -> Path:
    """Take every free byte of the file system under folder."""
    ballast = folder / "ballast"
    with ballast.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return ballast


@pytest.mark.parametrize("fault", ["disk full", "read-only"])
def test_a_landing_that_cannot_be_written_fails_clearly_and_keeps_the_watermark(
    history, tmp_path, fault
):
    landing = tmp_path / "landing"
    _mount(landing, "size=8m")
    try:
        desk = history
        settings = _settings(desk.engine, landing)
        extract_events(settings, batch_rows=50)
        before = check_feed_landing(settings)
        assert before.exactly_once and before.watermark > 0
        desk.clock.set(local(2025, 6, 3, 9))
        title = desk.title()
        for _ in range(20):
            desk.checkout(desk.patron("1885"), desk.item(title, "LIND"), "LIND")
        ballast = None
        if fault == "disk full":
            ballast = _fill(landing)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(landing)], check=True)
        with pytest.raises(LandingUnwritable) as refused:
            extract_events(settings, batch_rows=50)
        message = str(refused.value)
        expected = "No space left" if fault == "disk full" else "Read-only file system"
        assert expected in message and str(landing) in message, message
        assert "watermark is unchanged" in message
        if ballast is not None:
            ballast.unlink()
        else:
            subprocess.run(["mount", "-o", "remount,rw", str(landing)], check=True)
        assert check_feed_landing(settings).watermark == before.watermark  # kept
        extract_events(settings, batch_rows=50)
        after = check_feed_landing(settings)
        assert after.exactly_once and after.watermark > before.watermark, after
    finally:
        _umount(landing)
