"""The schedules, in the libraries' time zone: the whole graph nightly, the retention of
patron keys monthly.

04:00 Europe/Stockholm: the libraries are closed and the lending core's day is complete,
and it is clear of the daylight-saving jumps (02:00-03:00 local happens twice or never on
the last Sundays of March and October).

The retention cutoff is counted in whole months from the newest landed event, so it moves
when the first events of a new month are landed: by the nightly run of the 2nd. The
retention runs two hours after it on that day (06:00; Dagster runs one run at a time, so
it waits if the nightly run is still going), and keys leave at most a day after their
retention has run out.
"""

import dagster as dg

from bibbla.config import Settings
from orchestration.jobs import nightly_pipeline, patron_key_retention

NIGHTLY_CRON = "0 4 * * *"
RETENTION_CRON = "0 6 2 * *"


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
        ),
        dg.ScheduleDefinition(
            name="monthly_retention",
            job=patron_key_retention,
            cron_schedule=RETENTION_CRON,
            execution_timezone=settings.timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="The retention of patron keys (BIBBLA_RETENTION_MONTHS) at 06:00 on the "
            "2nd of every month in the libraries' time zone, after the nightly run has landed "
            "the new month's first events.",
        ),
    ]
