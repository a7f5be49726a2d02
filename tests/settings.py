"""The one way a test makes its settings and the environment of a `bibbla` process it
starts: everything under one folder, a known pseudonym key, nobody else's BIBBLA_*."""

from __future__ import annotations

import os
from pathlib import Path

from bibbla.config import Settings


def settings_under(root: Path, pseudonym_key: str, **overrides) -> Settings:
    """Settings whose data, landing and warehouse are under root/data and whose lending core
    is root/operational.sqlite, unless overridden. Their dbt builds leave the unit tests
    out: those check the SQL on fixtures, whatever the landing holds, and run once per test
    run in the shared world's first build (tests/world.py) and in the Spark test."""
    data = root / "data"
    values = {
        "env": "test",
        "data_dir": data,
        "landing": data / "landing",
        "warehouse": data / "warehouse.duckdb",
        "operational_db": f"sqlite:///{root / 'operational.sqlite'}",
        "pseudonym_key": pseudonym_key,
        "dbt_unit_tests": False,
        **overrides,
    }
    return Settings(**values)


def environment(
    settings: Settings, dagster_home: Path | None = None, **extra: str
) -> dict[str, str]:
    """The process environment with these settings (and `extra` variables) and nobody
    else's BIBBLA_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBBLA_")}
    env.update(
        {
            "BIBBLA_ENV": "test",
            "BIBBLA_DATA_DIR": str(settings.data_dir),
            "BIBBLA_LANDING": str(settings.landing_path),
            "BIBBLA_WAREHOUSE": str(settings.warehouse_path),
            "BIBBLA_OPERATIONAL_DB": settings.operational_db_url,
            "BIBBLA_RETENTION_MONTHS": str(settings.retention_months),
            "BIBBLA_DBT_UNIT_TESTS": str(settings.runs_dbt_unit_tests).lower(),
        }
    )
    if settings.pseudonym_key is not None:
        env["BIBBLA_PSEUDONYM_KEY"] = settings.pseudonym_key.get_secret_value()
    if dagster_home is not None:
        env["DAGSTER_HOME"] = str(dagster_home)
    env.update(extra)
    return env
