"""Resources: the project's settings, configured from `BIBBLA_*`.

Assets, checks, the sensor and the schedule take `settings: ResourceParam[Settings]`;
there is no second place where a path or URL is configured. Tests build the definitions
with their own `Settings` (see `definitions.build_definitions`). dbt needs no resource: the
steps run it in their own process with the paths from the settings
(warehouse.build.run_dbt, orchestration/dbt_step.py).
"""

from __future__ import annotations

from bibbla.config import Settings


def build_resources(settings: Settings) -> dict[str, object]:
    return {"settings": settings}
