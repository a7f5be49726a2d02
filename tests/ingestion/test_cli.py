"""`bibbla ingest` from the command line: progress and summaries, exit status."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bibbla.config import get_settings
from ingestion.cli import app as ingest_app
from tests.ingestion.conftest import KEY


@pytest.fixture
def environment(tmp_path, sqlite_engine, monkeypatch):
    values = {
        "BIBBLA_ENV": "test",
        "BIBBLA_DATA_DIR": str(tmp_path / "data"),
        "BIBBLA_LANDING": str(tmp_path / "landing"),
        "BIBBLA_OPERATIONAL_DB": str(sqlite_engine.url),
        "BIBBLA_PSEUDONYM_KEY": KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_bibbla_ingest_lands_everything_and_verifies(environment, sqlite_engine, clock):
    from tests.ingestion.conftest import make_history
    from tests.operational.desk import Desk

    make_history(Desk(sqlite_engine, clock), days=1)
    runner = CliRunner()

    result = runner.invoke(ingest_app, ["--batch-rows", "5"])

    assert result.exit_code == 0, result.output
    assert "batch 1: ids 1-5" in result.output
    assert "events: 20 rows landed, 0 quarantined (events 0 -> 20)" in result.output
    assert "snapshots:" in result.output and "reference:" in result.output
    verified = runner.invoke(ingest_app, ["verify"])
    assert verified.exit_code == 0 and "exactly_once: True" in verified.output
    again = runner.invoke(ingest_app, ["events"])
    assert "events: 0 rows landed" in again.output


def test_a_refusal_exits_with_status_2_and_says_why(environment):
    environment.delenv("BIBBLA_PSEUDONYM_KEY")
    environment.setenv("BIBBLA_PSEUDONYM_KEY", "")
    get_settings.cache_clear()

    result = CliRunner().invoke(ingest_app, ["events"])

    assert result.exit_code == 2
    assert "BIBBLA_PSEUDONYM_KEY is not set" in result.output


def test_bibbla_has_the_ingest_command():
    from bibbla.cli import app

    result = CliRunner().invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0 and "--full-refresh" in result.output
