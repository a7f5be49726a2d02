"""The nightly schedule: the whole graph once a night, in the libraries' time zone.

04:00 Europe/Stockholm: the libraries are closed and the lending core's day is complete,
and it is clear of the daylight-saving jumps (02:00-03:00 local happens twice or never on
the last Sundays of March and October).
"""

import dagster as dg

from bibbla.config import Settings
from orchestration.jobs import nightly_pipeline

NIGHTLY_CRON = "0 4 * * *"


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="nightly",
            job=nightly_pipeline,
            cron_schedule=NIGHTLY_CRON,
            execution_timezone=settings.timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="The whole pipeline every night at 04:00 in the libraries' time zone "
            "(BIBBLA_TIMEZONE, default Europe/Stockholm).",
        )
    ]
