"""One small simulated warehouse, built once per session and shared by the tests here.

A short period around the joins of 2025-04-01 is simulated at a small scale, landed, and
built with `dbt build` (all models, data tests and unit tests); then the simulation goes on
for the rest of the period, is landed again and built again, so the facts are incremental
as in a nightly run. About a minute and a half on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bibbla.config import PROJECT_ROOT, Settings
from bibbla.warehouse import build_warehouse

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
KEY = "test-pseudonym-key-warehouse-0123456789"
START, SPLIT_AFTER_DAYS, END = "2025-03-01", 45, "2025-05-15"
SCALE = 0.02


@dataclass
class BuiltWarehouse:
    settings: Settings
    operational_url: str
    dbt_target: Path
    dbt_logs: Path
    log: list[str]

    @property
    def path(self) -> Path:
        return self.settings.warehouse_path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql, parameters or []).fetchall()


def bibbla(arguments: list[str], env: dict[str, str]) -> None:
    """Run the bibbla command line as a user would; fail the fixture with its output."""
    result = subprocess.run(
        [BIBBLA, *arguments], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    if result.returncode != 0:
        pytest.fail(f"bibbla {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")


def environment(settings: Settings) -> dict[str, str]:
    """The process environment with this test's settings and nobody else's BIBBLA_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBBLA_")}
    env.update(
        {
            "BIBBLA_ENV": "test",
            "BIBBLA_DATA_DIR": str(settings.data_dir),
            "BIBBLA_LANDING": str(settings.landing_path),
            "BIBBLA_WAREHOUSE": str(settings.warehouse_path),
            "BIBBLA_OPERATIONAL_DB": settings.operational_db,
            "BIBBLA_PSEUDONYM_KEY": KEY,
        }
    )
    return env


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    root = tmp_path_factory.mktemp("warehouse")
    operational_url = f"sqlite:///{root / 'operational.sqlite'}"
    settings = Settings(
        env="test",
        data_dir=root / "data",
        landing=root / "data" / "landing",
        warehouse=root / "data" / "warehouse.duckdb",
        operational_db=operational_url,
        pseudonym_key=KEY,
    )
    env = environment(settings)
    built = BuiltWarehouse(settings, operational_url, root / "dbt-target", root / "dbt-logs", [])

    def build() -> None:
        build_warehouse(
            settings, log=built.log.append, target_path=built.dbt_target, log_path=built.dbt_logs
        )

    bibbla(["db", "init", "--reset", "--db", operational_url], env)
    bibbla(
        [
            "simulate",
            "--db",
            operational_url,
            "--scale",
            str(SCALE),
            "--start",
            START,
            "--end",
            END,
            "--days",
            str(SPLIT_AFTER_DAYS),
            "--seed",
            "7",
        ],
        env,
    )
    bibbla(["ingest"], env)
    build()
    # the rest of the period, landed and built incrementally like the next night's run
    bibbla(["simulate", "--db", operational_url, "--resume"], env)
    bibbla(["ingest"], env)
    build()
    return built
