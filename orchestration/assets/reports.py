"""The Evidence report site: the last asset, built from the marts the reports read.

It runs `bibbla.reports.build_reports` (npm ci when needed, `npm run sources`, `npm run
build`) after dbt and its checks: Evidence opens the warehouse read-only, and DuckDB admits
no reader beside a writer in another process, so it must come after the dbt steps (the
in-process executor runs one step at a time). Without Node.js 20 it fails at once with a
message saying what to install; `bibbla pipeline run --no-reports` leaves it out.
"""

from collections.abc import Iterable

import dagster as dg
from dagster import AssetExecutionContext

from bibbla.config import Settings
from bibbla.reports import ReportsBuildError, build_reports, node_version

REPORTS_KEY = dg.AssetKey(["reports", "site"])
# One retry: an npm install or build that fails once (a busy registry mirror) may succeed.
REPORTS_RETRY = dg.RetryPolicy(max_retries=1, delay=30)


def build_reports_asset(marts: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORTS_KEY,
        deps=list(marts),
        group_name="reports",
        kinds={"evidence", "html"},
        description="The Evidence report site (reports/), a static site built from the "
        "warehouse's marts into reports/build.",
        retry_policy=REPORTS_RETRY,
    )
    def reports_site(
        context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        try:
            node = node_version()
        except ReportsBuildError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error

        def log(line: str) -> None:
            # npm's own lines go to the debug log; the steps themselves to the run's progress.
            if line.startswith(("$ ", "reports:")):
                context.log.info(line)
            else:
                context.log.debug(line)

        try:
            build_dir = build_reports(settings, log=log)
        except ReportsBuildError as error:
            raise dg.Failure(description=str(error)) from error
        pages = sorted(build_dir.rglob("index.html"))
        size = sum(path.stat().st_size for path in build_dir.rglob("*") if path.is_file())
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(build_dir)),
                "pages": len(pages),
                "size_mb": round(size / 1e6, 1),
                "node": ".".join(str(part) for part in node),
                "serve": dg.MetadataValue.md("`bibbla reports serve` → http://127.0.0.1:3000/"),
            }
        )

    return reports_site
