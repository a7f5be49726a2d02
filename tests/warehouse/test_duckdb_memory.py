"""Every dbt build runs DuckDB within the memory the settings give it and spills to the
settings' folder beyond it (profiles.yml, warehouse/build.py), so that a larger volume is
slower instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bibbla.config import Settings
from tests.world import KEY
from warehouse.build import run_dbt


def _settings(tmp_path: Path, **extra) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        warehouse=tmp_path / "warehouse" / "warehouse.duckdb",
        pseudonym_key=KEY,
        **extra,
    )


def _setting_in_build(settings: Settings, tmp_path: Path, spill: str) -> list[str]:
    """dbt's output of a query that shows the memory limit and whether the spill folder
    is `spill` (a path too long for dbt's table of results)."""
    lines: list[str] = []
    run_dbt(
        [
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory, "
            f"current_setting('temp_directory') = '{spill}' as spill_as_set",
        ],
        settings,
        log=lines.append,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    return lines


def test_a_build_uses_the_memory_limit_and_spill_folder_of_the_settings(tmp_path: Path):
    spill = tmp_path / "elsewhere" / "spill"
    settings = _settings(tmp_path, duckdb_memory_limit="300MB", duckdb_temp_directory=spill)

    output = "\n".join(_setting_in_build(settings, tmp_path, str(spill)))

    assert "| 286.1 MiB |         True |" in output  # 300 MB as DuckDB shows it


def test_by_default_a_share_of_the_machine_and_a_folder_beside_the_warehouse(tmp_path: Path):
    settings = _settings(tmp_path, duckdb_memory_share=0.25)
    assert settings.duckdb_memory.endswith("MB")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert int(settings.duckdb_memory.removesuffix("MB")) == pytest.approx(
        physical * 0.25 / 2**20, abs=1
    )

    # named relative to the warehouse's folder, dbt's working directory
    output = "\n".join(_setting_in_build(settings, tmp_path, "duckdb_spill"))

    assert output.rstrip().endswith("True |")
