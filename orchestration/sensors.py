"""The feed sensor: land new events soon after the lending core writes them.

Every two minutes it compares the lending core's newest event id (one read-only query)
with the landing's committed watermark for the same database. When the feed has moved it
requests an ingestion run (`ingest_landing`: events, snapshots, reference, and their
checks), keyed by database and event id so that one position never starts two runs. It
skips, saying why, when nothing is new, when a pipeline run is already queued or running
(that run will land the events), while the monthly retention run holds the landing, and
when the lending core was rebuilt (a new database
identity): ingestion then refuses until `bibbla ingest --full-refresh`, and requesting
runs that must fail would only hide the message.
"""

from dataclasses import dataclass

import dagster as dg
from dagster import SensorEvaluationContext

from bibbla.config import Settings
from ingestion.errors import IngestionError
from ingestion.source import OperationalSource
from ingestion.state import StateStore
from orchestration.jobs import INGEST_JOB, NIGHTLY_JOB, RETENTION_JOB, ingest_landing

INTERVAL_SECONDS = 120
_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass(frozen=True)
class FeedStatus:
    database_id: str
    newest_event_id: int
    landed_database_id: str | None
    watermark: int

    @property
    def same_database(self) -> bool:
        return self.landed_database_id in (None, self.database_id)

    @property
    def moved(self) -> bool:
        return self.same_database and self.newest_event_id > self.watermark


def feed_status(settings: Settings) -> FeedStatus:
    """Where the lending core's feed is, and how far the landing has it."""
    with OperationalSource(settings.operational_db_url) as source:
        identity = source.identity()
        position = source.feed_position()
    state = StateStore(settings.landing_path).read()
    record = state.databases.get(identity.database_id)
    return FeedStatus(
        database_id=identity.database_id,
        newest_event_id=position.last_event_id,
        landed_database_id=state.current_database_id,
        watermark=record.event_watermark if record else 0,
    )


def evaluate_feed(
    context: SensorEvaluationContext, settings: Settings
) -> dg.RunRequest | dg.SkipReason:
    try:
        status = feed_status(settings)
    except IngestionError as error:
        return dg.SkipReason(f"cannot read the lending core's feed: {error}")
    if not status.same_database:
        return dg.SkipReason(
            f"the lending core is database {status.database_id} but the landing holds "
            f"{status.landed_database_id}: the lending core was rebuilt; run "
            "`bibbla ingest --full-refresh` (ingestion refuses until then)"
        )
    if not status.moved:
        return dg.SkipReason(
            f"feed at event {status.newest_event_id}, landed up to {status.watermark}: nothing new"
        )
    for job_name in (INGEST_JOB, NIGHTLY_JOB):
        active = context.instance.get_run_records(
            dg.RunsFilter(job_name=job_name, statuses=_ACTIVE), limit=1
        )
        if active:
            return dg.SkipReason(
                f"feed at event {status.newest_event_id}, landed up to {status.watermark}; "
                f"run {active[0].dagster_run.run_id[:8]} of {job_name} is in progress and "
                "will land it"
            )
    retention = context.instance.get_run_records(
        dg.RunsFilter(job_name=RETENTION_JOB, statuses=_ACTIVE), limit=1
    )
    if retention:
        return dg.SkipReason(
            f"feed at event {status.newest_event_id}, landed up to {status.watermark}; the "
            f"retention run {retention[0].dagster_run.run_id[:8]} holds the landing: the "
            "events are landed after it"
        )
    context.update_cursor(f"{status.database_id}:{status.newest_event_id}")
    return dg.RunRequest(
        run_key=f"{status.database_id}:{status.newest_event_id}",
        tags={
            "bibbla/database_id": status.database_id,
            "bibbla/feed_event_id": str(status.newest_event_id),
            "bibbla/landed_watermark": str(status.watermark),
        },
    )


@dg.sensor(
    name="event_feed_moved",
    job=ingest_landing,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs ingestion when the lending core's newest event id is beyond the "
    "landed watermark (checked every two minutes).",
)
def event_feed_moved(
    context: SensorEvaluationContext, settings: dg.ResourceParam[Settings]
) -> dg.RunRequest | dg.SkipReason:
    return evaluate_feed(context, settings)


def build_sensors() -> list[dg.SensorDefinition]:
    return [event_feed_moved]
