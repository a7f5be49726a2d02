"""DAGSTER_HOME: where Dagster keeps runs, event logs and schedule/sensor state.

Project-local by default (`<BIBBLA_DATA_DIR>/dagster_home`, i.e. `data/dagster_home`),
unless DAGSTER_HOME is already set (a production service points it at its own folder).
`dagster.yaml` there turns telemetry off (the only switch that does) and lets one run at a
time use the landing and the warehouse (DuckDB admits one writer; ingestion locks the
landing): runs launched while another is in progress wait in the queue.
"""

from __future__ import annotations

import os
from pathlib import Path

from bibbla.config import Settings

MARKER = "# Written by bibbla (orchestration/home.py)"
DAGSTER_YAML = f"""{MARKER}; delete this line to keep your own edits.
telemetry:
  enabled: false
concurrency:
  runs:
    # One pipeline run at a time: DuckDB admits one writer, ingestion locks the landing.
    max_concurrent_runs: 1
retention:
  sensor:
    purge_after_days:
      # The feed sensor ticks every two minutes; keep skipped ticks a week.
      skipped: 7
      failure: 30
      success: -1
"""


def dagster_home(settings: Settings) -> Path:
    configured = os.environ.get("DAGSTER_HOME")
    return Path(configured) if configured else settings.data_dir / "dagster_home"


def ensure_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with its dagster.yaml and point this process (and the processes
    it starts) at it."""
    home = dagster_home(settings).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or (
        config.read_text(encoding="utf-8").startswith(MARKER)
        and config.read_text(encoding="utf-8") != DAGSTER_YAML
    ):
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
