"""The warehouse built twice from one landing: on DuckDB (the default target) and on Spark
(dbt-spark, pyspark in local mode), for `make test-spark`.

A short period is simulated at a small scale and landed; both targets build the seeds
and models (no tests yet); the simulation goes on, is landed again, and both targets run `dbt build`
(incremental facts: delete+insert on DuckDB, insert_overwrite of month partitions on
Spark; then every data test and unit test). After each phase every table is compared.
About four minutes on two cores, most of it Spark.

These tests run only when BIBBLA_SPARK_TESTS is set (`make test-spark` sets it and installs
the optional `spark` dependency group); plain `make test` skips them with that reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bibbla.config import Settings
from tests.settings import environment, settings_under
from tests.spark.equality import TableComparison, compare_warehouses
from tests.spark.targets import (
    run_dbt_target,
    spark_missing,
    spark_state,
    spark_warehouse_dir,
    target_environment,
)
from tests.warehouse.conftest import KEY, bibbla

START, SPLIT_AFTER_DAYS, END = "2025-03-01", 45, "2025-05-15"
SCALE = 0.02


@dataclass
class SparkAndDuckDB:
    settings: Settings
    spark_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)
    comparisons: dict[str, dict[str, list[TableComparison]]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


_TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    """The dbt runs' wall times, so that CI's log shows what Spark costs."""
    if _TIMINGS:
        terminalreporter.write_sep("-", "dbt wall time per target (s)")
        for key, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{key:<28}{seconds:8.1f}")


def _enabled() -> bool:
    return os.environ.get("BIBBLA_SPARK_TESTS", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def spark_and_duckdb(tmp_path_factory: pytest.TempPathFactory) -> SparkAndDuckDB:
    if not _enabled():
        pytest.skip("Spark tests run with `make test-spark` (BIBBLA_SPARK_TESTS=1)")
    if (missing := spark_missing()) is not None:
        pytest.fail(f"BIBBLA_SPARK_TESTS is set but Spark cannot run: {missing}")
    root = tmp_path_factory.mktemp("spark")
    # the unit tests run on both engines here, as the DuckDB ones do in the world's build
    settings = settings_under(root, KEY, dbt_unit_tests=True)
    operational_url = settings.operational_db_url
    env = environment(settings)
    built = SparkAndDuckDB(settings, spark_state(root / "spark"))
    duck_env = target_environment(
        settings, "duckdb", target_path=root / "dbt-duckdb", log_path=root / "dbt-duckdb"
    )
    spark_env = target_environment(
        settings,
        "spark",
        spark_dir=built.spark_dir,
        target_path=root / "dbt-spark",
        log_path=root / "dbt-spark",
    )

    def both(phase: str, arguments: list[str]) -> None:
        for target, target_env in (("duckdb", duck_env), ("spark", spark_env)):
            built.seconds[f"{phase} {target}"] = run_dbt_target(
                arguments, target_env, log=built.log.append
            )
            _TIMINGS[f"{phase} on {target}"] = built.seconds[f"{phase} {target}"]
        built.comparisons[phase] = {
            schema: compare_warehouses(
                settings.warehouse_path, spark_warehouse_dir(built.spark_dir), schema
            )
            for schema in ("main", "intermediate")
        }

    bibbla(["db", "init", "--reset", "--db", operational_url], env)
    bibbla(
        [
            "simulate", "--db", operational_url, "--scale", str(SCALE), "--start", START,
            "--end", END, "--days", str(SPLIT_AFTER_DAYS), "--seed", "7",
        ],
        env,
    )  # fmt: skip
    bibbla(["ingest"], env)
    both("first build", ["build", "--exclude", "resource_type:test", "resource_type:unit_test"])
    # the rest of the period, landed and built incrementally like the next night's run
    bibbla(["simulate", "--db", operational_url, "--resume"], env)
    bibbla(["ingest"], env)
    both("incremental build", ["build"])
    return built
