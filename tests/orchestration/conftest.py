"""One short, small simulation run through the whole pipeline once per session.

Two months around the joins of 2025-04-01 at scale 0.02 are simulated, then
`bibbla pipeline run --no-reports` materialises every asset (the nightly run, as a person
runs it) into the session's own data folder and DAGSTER_HOME. The tests read that run
from DAGSTER_HOME, and the bad-data tests work on copies of its landing and warehouse.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from bibbla.config import PROJECT_ROOT, Settings

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
KEY = "test-pseudonym-key-orchestration-0123456789"
START, END, SCALE, SEED = "2025-03-01", "2025-04-30", "0.02", "11"


@dataclass
class PipelineRun:
    """The session's simulated lending core, landed and built by `bibbla pipeline run`."""

    settings: Settings
    env: dict[str, str]
    dagster_home: Path
    output: str
    seconds: float
    returncode: int

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))


def environment(settings: Settings, dagster_home: Path) -> dict[str, str]:
    """The process environment with these settings and nobody else's BIBBLA_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBBLA_")}
    env.update(
        {
            "BIBBLA_ENV": "test",
            "BIBBLA_DATA_DIR": str(settings.data_dir),
            "BIBBLA_OPERATIONAL_DB": settings.operational_db,
            "BIBBLA_PSEUDONYM_KEY": KEY,
            "DAGSTER_HOME": str(dagster_home),
        }
    )
    return env


def bibbla(arguments: list[str], env: dict[str, str], check: bool = True):
    result = subprocess.run(
        [BIBBLA, *arguments], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    if check and result.returncode != 0:
        pytest.fail(f"bibbla {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    root = tmp_path_factory.mktemp("orchestration")
    settings = Settings(
        env="test",
        data_dir=root / "data",
        operational_db=f"sqlite:///{root / 'operational.sqlite'}",
        pseudonym_key=KEY,
    )
    home = root / "dagster_home"
    env = environment(settings, home)
    bibbla(["db", "init", "--reset"], env)
    bibbla(["simulate", "--start", START, "--end", END, "--scale", SCALE, "--seed", SEED], env)
    started = time.monotonic()
    result = bibbla(["pipeline", "run", "--no-reports"], env, check=False)
    return PipelineRun(
        settings,
        env,
        home,
        result.stdout + result.stderr,
        time.monotonic() - started,
        result.returncode,
    )


@dataclass
class Copy:
    """A copy of the session's landing, warehouse and lending core that a test may break.

    It shares the session's data folder (and so its parsed dbt manifest), but not the
    files the pipeline reads and writes."""

    settings: Settings
    root: Path

    @property
    def landing(self) -> Path:
        return self.settings.landing_path


@pytest.fixture
def pipeline_copy(pipeline_run: PipelineRun, tmp_path: Path) -> Copy:
    source = pipeline_run.settings
    shutil.copytree(source.landing_path, tmp_path / "landing")
    shutil.copy2(source.warehouse_path, tmp_path / "warehouse.duckdb")
    database = Path(source.operational_db.removeprefix("sqlite:///"))
    # The backup API copies what is still in the write-ahead log too.
    with (
        contextlib.closing(sqlite3.connect(database)) as original,
        contextlib.closing(sqlite3.connect(tmp_path / "operational.sqlite")) as copy,
    ):
        original.backup(copy)
    settings = replace_settings(
        source,
        landing=tmp_path / "landing",
        warehouse=tmp_path / "warehouse.duckdb",
        operational_db=f"sqlite:///{tmp_path / 'operational.sqlite'}",
    )
    return Copy(settings, tmp_path)


def replace_settings(settings: Settings, **changes) -> Settings:
    return settings.model_copy(update=changes)
