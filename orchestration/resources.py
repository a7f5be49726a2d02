"""Resources: the project's settings and the dbt CLI, configured from `BIBBLA_*`.

Assets, checks, the sensor and the schedule take `settings: ResourceParam[Settings]`;
there is no second place where a path or URL is configured. Tests build the definitions
with their own `Settings` (see `definitions.build_definitions`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from bibbla.config import Settings


def dbt_executable() -> str:
    """The `dbt` of this virtual environment (dagster-dbt otherwise needs it on PATH)."""
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("dbt") or "dbt"


def build_resources(settings: Settings, project: DbtProject) -> dict[str, object]:
    return {
        "settings": settings,
        "dbt": DbtCliResource(
            project_dir=project,
            dbt_executable=dbt_executable(),
            global_config_flags=["--no-use-colors"],
        ),
    }
