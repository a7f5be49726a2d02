"""Scenario runs as `bibbla scenario run` exports them, read by the main warehouse: the
export of a run's figures and of its advice check (bibbla/scenarios.py), their staging
models, and the comparison and advice-check marts built from them with the same dbt
selection `bibbla scenario compare` runs. The marts' arithmetic has hand-computed unit
tests (models/marts/scenarios/_scenarios__unit_tests.yml); this checks the way in."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bibbla import scenarios
from tests.warehouse.conftest import BuiltWarehouse
from warehouse.advice import AdviceCheck
from warehouse.build import run_dbt

pytestmark = pytest.mark.slow

START, END = date(2025, 3, 1), date(2025, 5, 15)


def _check(baseline_holds: int, rerun_holds: int) -> AdviceCheck:
    return AdviceCheck(
        moves_on=date(2025, 4, 1), until=END, moves=3, copies=4, copies_moved=3, titles=2,
        baseline_holds=baseline_holds, rerun_holds=rerun_holds,
        baseline_wait_days=40.0, rerun_wait_days=30.0,
        predicted_wait_days_saved=20.0, simulated_wait_days_saved=10.0, ratio=0.5,
        baseline_hold_transports=9, rerun_hold_transports=6, predicted_transports_saved=3.5,
        control_baseline_holds=100, control_baseline_wait_days=250.0,
        control_rerun_wait_days=260.0,
    )  # fmt: skip


def _run(warehouse: Path, root: Path, name: str, seed: int, check: AdviceCheck | None) -> None:
    """One exported run: this world's warehouse stands in for the run's own."""
    folder = root / name / f"seed-{seed}"
    folder.mkdir(parents=True)
    shutil.copyfile(warehouse, folder / "warehouse.duckdb")
    if check is not None:
        (folder / scenarios.ADVICE_CHECK_FILE).write_text(
            json.dumps(check.to_json()), encoding="utf-8"
        )
    scenarios.export_run(folder, name, seed, 0.02, START, END)
    assert (folder / scenarios.ADVICE_CHECK_EXPORT).is_file() == (check is not None)


def test_exported_runs_reach_the_comparison_and_the_advice_check(
    built_warehouse: BuiltWarehouse, tmp_path: Path, dbt_paths
) -> None:
    data_dir = tmp_path / "data"
    root = data_dir / "scenarios"
    for seed in (1, 2):
        _run(built_warehouse.path, root, "baseline", seed, None)
    _run(built_warehouse.path, root, "rad", 1, _check(baseline_holds=12, rerun_holds=9))
    _run(built_warehouse.path, root, "rad", 2, _check(baseline_holds=12, rerun_holds=4))
    warehouse = data_dir / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.path, warehouse)
    settings = built_warehouse.settings.model_copy(
        update={"data_dir": data_dir, "warehouse": warehouse}
    )
    run_dbt(
        ["build", "--select", "stg_scenario__run_year+", "stg_scenario__advice_check+"],
        settings,
        log=lambda _line: None,
        **dbt_paths,
    )
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        checks = connection.execute(
            "select seed, moves_on, until_date, moves, copies_moved, baseline_holds,"
            " rerun_holds, predicted_wait_days_saved, simulated_wait_days_saved,"
            " simulated_to_predicted, control_wait_days_saved_per_hold, is_suppressed,"
            " data_source from main.mart_scenario_advice_check where scenario = 'rad'"
            " order by seed"
        ).fetchall()
        compared = connection.execute(
            "select count(*) filter (where seeds_compared = 2),"
            " count(*) filter (where seeds_compared = 2 and difference = 0)"
            " from main.mart_scenario_comparison where scenario = 'rad'"
        ).fetchone()
    assert checks == [
        # 10 of 20 predicted days saved; the control waited 10 days longer over 100 holds
        (1, date(2025, 4, 1), END, 3, 3, 12, 9, 20.0, 10.0, 0.5, -0.1, False, "simulated"),
        # the rerun had 4 holds on the moved titles: counts, saving and ratio withheld
        (2, date(2025, 4, 1), END, 3, 3, None, None, 20.0, None, None, -0.1, True, "simulated"),
    ]
    # the same warehouse on both sides: every figure compared, with no difference
    rows, without_difference = compared
    assert rows > 0 and without_difference == rows
