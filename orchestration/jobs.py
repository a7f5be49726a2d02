"""The jobs: the whole graph (nightly), the landing alone (when the feed moves), and the
retention of patron keys (monthly)."""

import dagster as dg

from orchestration.assets.landing import LANDING_GROUPS
from orchestration.assets.retention import RETENTION_KEY

NIGHTLY_JOB = "nightly_pipeline"
# The progress logger (orchestration/progress.py, the Definitions' "console" logger) for
# every run of these jobs, however launched.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
INGEST_JOB = "ingest_landing"
RETENTION_JOB = "patron_key_retention"

nightly_pipeline = dg.define_asset_job(
    NIGHTLY_JOB,
    # everything but the retention of patron keys, which has its own monthly job
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(RETENTION_KEY),
    description="Everything, in dependency order: land the lending core's new events, "
    "snapshots and the reference files; check them; build the warehouse with dbt (models and "
    "tests); check the marts; generate the dbt docs; build the report site. (The retention "
    "of patron keys runs monthly, on its own job.)",
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

patron_key_retention = dg.define_asset_job(
    RETENTION_JOB,
    selection=dg.AssetSelection.assets(RETENTION_KEY),
    description="Remove the patron keys of events older than BIBBLA_RETENTION_MONTHS from the "
    "landing and the warehouse's facts, freezing first the counts of people those periods "
    "need, and rebuild the warehouse: every mart stays the same.",
    tags={"bibbla/pipeline": "retention"},
    config=RUN_CONFIG,
)
