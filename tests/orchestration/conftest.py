"""The orchestration tests read the shared world's pipeline run (tests/world.py): after a
first build, the lending core was simulated on and `bibbla pipeline run --no-reports`
materialised every asset (the nightly run, as a person runs it) with the world's own
DAGSTER_HOME. The tests read that run from DAGSTER_HOME, and the bad-data tests work on
copies of its landing, warehouse and lending core.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from bibbla.config import Settings
from tests.settings import environment
from tests.world import World, bibbla, shared_root, shared_world

__all__ = ["Copy", "PipelineRun", "bibbla", "environment"]


@dataclass
class PipelineRun:
    """The world's simulated lending core, landed and built by `bibbla pipeline run`."""

    settings: Settings
    env: dict[str, str]
    dagster_home: Path
    output: str
    seconds: float
    returncode: int

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(shared_root(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def pipeline_run(world: World) -> PipelineRun:
    return PipelineRun(
        world.settings,
        world.env(),
        world.dagster_home,
        world.pipeline_output,
        world.pipeline_seconds,
        world.pipeline_returncode,
    )


@dataclass
class Copy:
    """A copy of the world's landing, warehouse and lending core that a test may break.

    It shares the world's data folder (and so its parsed dbt manifest), but not the files
    the pipeline reads and writes."""

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
