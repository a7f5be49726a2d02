"""The warehouse tests read the shared world (tests/world.py): a simulated lending core,
landed and built once (a first build with every model, data test and unit test), then
simulated on, landed and built again incrementally by the nightly pipeline run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bibbla.config import Settings
from tests.settings import environment
from tests.world import KEY, SCALE, World, bibbla, shared_root, shared_world

__all__ = ["KEY", "SCALE", "BuiltWarehouse", "bibbla", "environment"]


@dataclass
class BuiltWarehouse:
    settings: Settings
    operational_url: str
    log: list[str]  # the first build's dbt output
    first_build_target: Path  # the first build's dbt artefacts (manifest, run results): read only

    @property
    def path(self) -> Path:
        return self.settings.warehouse_path

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql, parameters or []).fetchall()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(shared_root(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def built_warehouse(world: World) -> BuiltWarehouse:
    if world.pipeline_returncode != 0:
        pytest.fail(f"the world's nightly pipeline run failed:\n{world.pipeline_output}")
    return BuiltWarehouse(
        world.settings, world.operational_url, world.build_log, world.root / "dbt-target"
    )


@pytest.fixture
def dbt_paths(tmp_path: Path) -> dict[str, Path]:
    """dbt's target and log folders for one test (dbt starts from the saved parse)."""
    return {"target_path": tmp_path / "dbt-target", "log_path": tmp_path / "dbt-logs"}
