"""The jobs: the whole graph (nightly) and the landing alone (when the feed moves)."""

import dagster as dg

from orchestration.assets.landing import LANDING_GROUPS

NIGHTLY_JOB = "nightly_pipeline"
# The progress logger (orchestration/progress.py, the Definitions' "console" logger) for
# every run of these jobs, however launched.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
INGEST_JOB = "ingest_landing"

nightly_pipeline = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    description="Everything, in dependency order: land the lending core's new events, "
    "snapshots and the reference files; check them; build the warehouse with dbt (models and "
    "tests); check the marts; generate the dbt docs; build the report site.",
    tags={"bibbla/pipeline": "nightly"},
    config=RUN_CONFIG,
)

ingest_landing = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups(*LANDING_GROUPS),
    description="Land the new events, the snapshots and the reference files, with their checks.",
    tags={"bibbla/pipeline": "ingest"},
    config=RUN_CONFIG,
)
