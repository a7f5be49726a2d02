"""`bibbla scenario`: reading a scenario (--join or scenarios/NAME.toml) and writing its
membership timeline; the runs themselves are the simulator's, ingestion's and the
warehouse's (tests/operational/integration/test_simulation_scenarios.py, and the dbt unit
test of mart_scenario_comparison)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from bibbla.scenarios import (
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_join,
    run_environment,
    write_timeline,
)
from tests.conftest import REFERENCE_DIR


def test_a_join_is_a_code_and_a_date():
    assert parse_join("1862=2025-07-01") == ("1862", date(2025, 7, 1))
    for bad in ("1862", "=2025-07-01", "1862=2025-13-01", "1862=juli"):
        with pytest.raises(ScenarioError, match="--join"):
            parse_join(bad)


def test_the_all_twelve_scenario_file_has_the_three_join():
    scenario = load_scenario("alla-tolv", [])
    assert scenario.joins == dict.fromkeys(("1862", "1883", "1880"), date(2025, 7, 1))
    assert scenario.description
    # --join replaces the file's joins
    assert load_scenario("alla-tolv", ["1880=2026-01-01"]).joins == {"1880": date(2026, 1, 1)}
    assert (SCENARIOS_DIR / "alla-tolv.toml").is_file()


def test_the_baseline_is_today_and_takes_no_join(tmp_path):
    assert load_scenario("baseline", [], tmp_path) == Scenario("baseline")
    with pytest.raises(ScenarioError, match="today's timeline"):
        load_scenario("baseline", ["1862=2025-07-01"], tmp_path)
    with pytest.raises(ScenarioError, match="names a folder"):
        load_scenario("../x", [], tmp_path)


def test_a_bad_scenario_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "fel.toml").write_text('[join]\n1862 = "sommaren"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"fel.toml: join.1862"):
        load_scenario("fel", [], tmp_path)


def _timeline(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return {r["municipality_code"]: r["consortium_joined_on"] for r in csv.DictReader(handle)}


def test_the_timeline_is_today_with_the_joins_changed(tmp_path):
    today = _timeline(REFERENCE_DIR / "municipalities.csv")
    scenario = Scenario("x", {"1862": date(2025, 7, 1), "1882": date(2025, 9, 1)})
    written = _timeline(write_timeline(REFERENCE_DIR, scenario, tmp_path / "m.csv"))
    assert written == {**today, "1862": "2025-07-01", "1882": "2025-09-01"}
    with pytest.raises(ScenarioError, match="unknown municipality 9999"):
        write_timeline(REFERENCE_DIR, Scenario("x", {"9999": date(2025, 1, 1)}), tmp_path / "n")


def test_a_run_keeps_everything_in_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BIBBLA_WAREHOUSE", "/elsewhere/warehouse.duckdb")
    monkeypatch.setenv("BIBBLA_OPERATIONAL_DB", "postgresql://elsewhere/db")
    env = run_environment(tmp_path)
    assert env["BIBBLA_DATA_DIR"] == str(tmp_path)
    assert "BIBBLA_WAREHOUSE" not in env and "BIBBLA_OPERATIONAL_DB" not in env


def test_options_it_does_not_know_go_to_the_simulator(monkeypatch, tmp_path):
    """`bibbla scenario run NAME --OPTION VALUE` hands the option to `bibbla simulate` as it
    is (e.g. `--collection-moves FILE`), once per seed."""
    from typer.testing import CliRunner

    import bibbla.scenarios as scenarios

    calls = []

    def run_scenario(settings, scenario, seed, **options):
        calls.append((scenario.name, seed, options["simulate_options"]))
        return scenarios.RunResult(tmp_path, {"simulate": 1.0})

    monkeypatch.setattr(scenarios, "run_scenario", run_scenario)
    result = CliRunner().invoke(
        scenarios.app,
        ["run", "x", "--join", "1862=2025-07-01", "--seed", "1", "--seed", "2",
         "--collection-moves", "moves.csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == [
        ("x", 1, ["--collection-moves", "moves.csv"]),
        ("x", 2, ["--collection-moves", "moves.csv"]),
    ]
