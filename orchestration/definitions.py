"""The pipeline as one Dagster `Definitions`: `dagster dev -m orchestration.definitions`.

    landing/*  (ingestion: events, 14 snapshots, 6 reference tables)  + GX checks
        │  dbt sources map to these keys (orchestration/dbt_project.py)
        ▼
    dbt models (staging_*, intermediate, marts_*)  + dbt tests + GX checks on the marts
        ▼
    dbt_docs, reports/site (Evidence)

    retention/patron_keys (monthly, its own job): removes patron keys older than
        BIBBLA_RETENTION_MONTHS from the landing and the facts, keeping every mart

Assembled from assets/, checks/, jobs.py, schedules.py, sensors.py and resources.py; every
path and URL comes from the `BIBBLA_*` settings. Steps run one at a time in the run's
process (`in_process_executor`): the steps share one DuckDB file that admits one writer,
and a small run finishes in about half the time.
"""

import json

import dagster as dg

from bibbla.config import Settings, get_settings
from orchestration.assets.landing import landing_assets
from orchestration.assets.reports import build_reports_asset
from orchestration.assets.retention import patron_keys
from orchestration.assets.warehouse import build_docs_asset, build_warehouse_assets
from orchestration.checks.landing import landing_checks
from orchestration.checks.marts import build_mart_checks
from orchestration.dbt_project import BibblaDbtTranslator, load_dbt_project, models
from orchestration.jobs import ingest_landing, nightly_pipeline, patron_key_retention
from orchestration.progress import progress_logger
from orchestration.resources import build_resources
from orchestration.schedules import build_schedules
from orchestration.sensors import build_sensors


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The whole pipeline for these settings (the process's own by default)."""
    settings = settings or get_settings()
    project = load_dbt_project(settings)
    manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))
    dbt_models = models(manifest, BibblaDbtTranslator())
    marts = [model.key for model in dbt_models.values() if model.folder[:1] == ("marts",)]
    return dg.Definitions(
        assets=[
            *landing_assets(),
            build_warehouse_assets(project),
            build_docs_asset(dbt_models),
            build_reports_asset(marts),
            patron_keys,
        ],
        asset_checks=[*landing_checks(), *build_mart_checks(dbt_models)],
        jobs=[nightly_pipeline, ingest_landing, patron_key_retention],
        schedules=build_schedules(settings),
        sensors=build_sensors(),
        resources=build_resources(settings),
        executor=dg.in_process_executor,
        loggers={"console": progress_logger},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m orchestration.definitions` loads (lazily: importing this module
    parses nothing and reads no settings)."""
    return build_definitions()
