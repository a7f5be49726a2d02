"""`bibbla scenario`: reading a scenario (--join or scenarios/NAME.toml) and writing its
membership timeline; the runs themselves are the simulator's, ingestion's and the
warehouse's (tests/operational/integration/test_simulation_scenarios.py, and the dbt unit
test of mart_scenario_comparison)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
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
from warehouse.advice import AdviceCheck


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


# ---------------------------------------------------------------- --apply-advice


def _settings(tmp_path: Path):
    from bibbla.config import Settings

    return Settings(data_dir=tmp_path / "data")


def _ran_baseline(settings, seed=11, scale=0.05, start="2024-01-01", end="2025-12-31"):
    from bibbla.scenarios import run_folder

    folder = run_folder(settings, "baseline", seed)
    folder.mkdir(parents=True)
    (folder / "warehouse.duckdb").write_bytes(b"")
    (folder / "scenario.json").write_text(
        f'{{"scale": {scale}, "start": "{start}", "end": "{end}"}}', encoding="utf-8"
    )
    return folder


def _advice_run(settings, name="rad", moves_on=date(2025, 7, 1), scale=0.05):
    from bibbla.scenarios import run_scenario

    return run_scenario(
        settings,
        Scenario(name),
        11,
        scale=scale,
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        apply_advice=moves_on,
        log=lambda _line: None,
    )


def test_the_advice_is_not_applied_to_the_baseline_itself(tmp_path):
    settings = _settings(tmp_path)
    _ran_baseline(settings)
    with pytest.raises(ScenarioError, match="another name"):
        _advice_run(settings, name="baseline")


def test_the_advice_needs_the_baseline_run_of_the_same_seed(tmp_path):
    with pytest.raises(ScenarioError, match=r"no baseline run for seed 11.*scenario run baseline"):
        _advice_run(_settings(tmp_path))


def test_the_advice_needs_a_baseline_of_the_same_scale_and_period(tmp_path):
    settings = _settings(tmp_path)
    _ran_baseline(settings, scale=0.1)
    with pytest.raises(ScenarioError, match=re.escape("was made with {'scale': 0.1}")):
        _advice_run(settings)


def test_the_moves_fall_inside_the_period(tmp_path):
    settings = _settings(tmp_path)
    _ran_baseline(settings)
    with pytest.raises(ScenarioError, match="must fall after --start"):
        _advice_run(settings, moves_on=date(2024, 1, 1))
    with pytest.raises(ScenarioError, match="must fall after --start"):
        _advice_run(settings, moves_on=date(2026, 1, 1))


_CHECK = AdviceCheck(
    moves_on=date(2025, 7, 1), until=date(2025, 12, 31), moves=1, copies=1, copies_moved=1,
    titles=1, baseline_holds=9, rerun_holds=8, baseline_wait_days=30.0, rerun_wait_days=20.0,
    predicted_wait_days_saved=12.0, simulated_wait_days_saved=10.0, ratio=10 / 12,
    baseline_hold_transports=9, rerun_hold_transports=8, predicted_transports_saved=1.0,
    control_baseline_holds=50, control_baseline_wait_days=100.0, control_rerun_wait_days=99.0,
)  # fmt: skip


class _Steps:
    """Stands in for the steps' processes: records each command and its data folder, and
    leaves what the step would (the moves file, a warehouse to export, the check)."""

    def __init__(self, moves: str):
        self.moves = moves
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, command, cwd, env, log, **_options):
        import duckdb

        self.calls.append((command, env["BIBBLA_DATA_DIR"]))
        step = command[1:3]
        if step == ["warehouse", "advice-export"]:
            Path(command[command.index("--out") + 1]).write_text(self.moves, encoding="utf-8")
        elif step == ["warehouse", "build"]:
            with duckdb.connect(str(Path(env["BIBBLA_DATA_DIR"]) / "warehouse.duckdb")) as c:
                c.execute("create table main.mart_scenario_run_year as select 1 as year")
        elif step == ["warehouse", "advice-check"]:
            Path(command[command.index("--out") + 1]).write_text(
                json.dumps(_CHECK.to_json()), encoding="utf-8"
            )
        return 0, ""


MOVES_HEADER = "title_id,from_branch_code,to_branch_code,copies\n"


def test_an_advice_run_gives_the_baseline_advice_makes_it_and_checks_it(tmp_path, monkeypatch):
    """The advice comes from the baseline run's warehouse on the eve of the moves, the
    simulation makes those moves on the day, and the check compares the two warehouses."""
    import bibbla.scenarios as scenarios

    settings = _settings(tmp_path)
    baseline = _ran_baseline(settings)
    steps = _Steps(MOVES_HEADER + "7,NORA,KOPP,1\n")
    monkeypatch.setattr(scenarios, "run_streaming", steps)
    result = _advice_run(settings)
    folder = result.folder
    names = [command[1:3] for command, _ in steps.calls]
    assert names == [
        ["warehouse", "advice-export"],
        ["simulate", "--seed"],
        ["ingest"],
        ["warehouse", "build"],
        ["warehouse", "advice-check"],
    ]
    (export, export_dir), (simulate, simulate_dir) = steps.calls[0], steps.calls[1]
    assert export_dir == str(baseline)  # the baseline's warehouse gives the advice
    assert export[export.index("--as-of") + 1] == "2025-06-30"
    moves = str(folder / scenarios.MOVES_FILE)
    assert export[export.index("--out") + 1] == moves
    assert simulate_dir == str(folder)
    assert simulate[simulate.index("--collection-moves") + 1] == moves
    assert simulate[simulate.index("--moves-on") + 1] == "2025-07-01"
    check, _ = steps.calls[4]
    assert check[check.index("--baseline") + 1] == str(baseline / "warehouse.duckdb")
    assert check[check.index("--rerun") + 1] == str(folder / "warehouse.duckdb")
    assert (folder / scenarios.ADVICE_CHECK_FILE).is_file()
    # exported beside the run's figures, with its name and seed, for the comparison
    exported = pq.read_table(folder / scenarios.ADVICE_CHECK_EXPORT).to_pylist()
    assert exported == [
        {"scenario": "rad", "seed": 11, "scale": 0.05, "start_date": date(2024, 1, 1),
         "end_date": date(2025, 12, 31)} | _CHECK.to_json()
        | {"moves_on": date(2025, 7, 1), "until": date(2025, 12, 31)}
    ]  # fmt: skip
    assert set(result.seconds) == {
        "advice", "simulate", "ingest", "warehouse", "advice-check", "export",
    }  # fmt: skip


def test_an_advice_without_moves_stops_before_simulating(tmp_path, monkeypatch):
    import bibbla.scenarios as scenarios

    settings = _settings(tmp_path)
    _ran_baseline(settings)
    steps = _Steps(MOVES_HEADER)
    monkeypatch.setattr(scenarios, "run_streaming", steps)
    with pytest.raises(ScenarioError, match="has no moves"):
        _advice_run(settings)
    assert [command[1:3] for command, _ in steps.calls] == [["warehouse", "advice-export"]]
