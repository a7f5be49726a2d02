"""`bibbla pipeline`: run the whole pipeline now, or start the Dagster UI and daemon.

    bibbla pipeline run [--no-reports]   the nightly run, now, in this process
    bibbla pipeline dev [--port 3070]    Dagster UI + daemon on 127.0.0.1 (Ctrl-C stops)
    bibbla pipeline prepare              DAGSTER_HOME and the dbt manifest (deployments)

`run` materialises every asset against the existing lending-core database (it simulates
nothing), with its checks, printing progress as it goes; the run is recorded in
DAGSTER_HOME, so the UI shows it afterwards. Exit status 0 when every step succeeded and
every check passed, 1 otherwise (the failing checks and their values are listed).

Dagster and the dbt manifest are imported only when a command runs, so that the rest of
the `bibbla` command line starts fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bibbla.config import PROJECT_ROOT, get_settings

app = typer.Typer(
    help="The orchestrated pipeline (Dagster): run it now, or start the UI and daemon.",
    no_args_is_help=True,
)

DEFAULT_PORT = 3070


def _where(settings) -> list[tuple[str, str]]:
    from orchestration.dbt_project import dbt_folder

    docs = dbt_folder(settings) / "docs" / "static_index.html"
    site = PROJECT_ROOT / "reports" / "build"
    return [
        ("warehouse", f"{settings.warehouse_path}   (DuckDB: duckdb -readonly <file>)"),
        ("dbt docs", f"{docs}   (open the file in a browser)"),
        ("reports", f"{site}   (serve: bibbla reports serve → http://127.0.0.1:3000/)"),
        ("landing", str(settings.landing_path)),
        ("runs", f"{os.environ.get('DAGSTER_HOME')}   (browse: make dagster)"),
    ]


@app.command("run")
def run(
    no_reports: Annotated[
        bool,
        typer.Option("--no-reports", help="Leave out the Evidence site (e.g. without Node.js)."),
    ] = False,
) -> None:
    """Materialise the whole graph now (the nightly run), with its checks."""
    settings = get_settings()
    from orchestration.home import ensure_dagster_home

    home = ensure_dagster_home(settings)
    started = time.monotonic()
    typer.echo(f"==> loading the pipeline (DAGSTER_HOME={home})", err=True)

    import dagster as dg

    from orchestration.assets.reports import REPORTS_KEY
    from orchestration.definitions import build_definitions
    from orchestration.jobs import NIGHTLY_JOB
    from orchestration.progress import error_text

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(NIGHTLY_JOB)
    # every asset of the nightly job (all but the monthly retention of patron keys)
    selection = [
        key
        for key in job.asset_layer.executable_asset_keys
        if not (no_reports and key == REPORTS_KEY)
    ]
    # dagster-dbt echoes dbt's own log to stdout; it goes to a file, progress to stderr.
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    dbt_log = logs / f"pipeline-run-{time.strftime('%Y%m%d-%H%M%S')}.log"
    typer.echo(f"==> materialising {len(selection)} assets (dbt's output: {dbt_log})", err=True)
    with (
        dg.DagsterInstance.get() as instance,
        dbt_log.open("w", encoding="utf-8") as output,
        contextlib.redirect_stdout(output),
    ):
        result = job.execute_in_process(
            instance=instance,
            asset_selection=selection,
            raise_on_error=False,
            tags={"bibbla/trigger": "bibbla pipeline run"},
        )
    seconds = time.monotonic() - started
    evaluations = result.get_asset_check_evaluations()
    failed = [evaluation for evaluation in evaluations if not evaluation.passed]
    materialised = {
        event.asset_key for event in result.get_asset_materialization_events() if event.asset_key
    }
    typer.echo("")
    verdict = "succeeded" if result.success and not failed else "FAILED"
    typer.echo(
        f"pipeline {verdict} in {seconds:.0f} s: {len(materialised)} assets materialised, "
        f"{len(evaluations) - len(failed)} checks passed, {len(failed)} failed"
    )
    for evaluation in failed:
        values = evaluation.metadata.get("failing_values")
        shown = f": {str(values.value)[:300]}" if values is not None else ""
        typer.secho(
            f"  FAILED {evaluation.asset_key.to_user_string()}:{evaluation.check_name}{shown}",
            fg=typer.colors.RED,
            err=True,
        )
    for event in result.all_events:
        if event.is_step_failure:
            message = error_text(event.step_failure_data.error)
            typer.secho(f"  step {event.step_key} failed: {message}", fg=typer.colors.RED, err=True)
            if event.step_key == "reports__site":
                typer.echo(
                    "  (the warehouse is built; `bibbla pipeline run --no-reports`, or "
                    "`make demo PIPELINE_FLAGS=--no-reports`, leaves the report site out)",
                    err=True,
                )
    typer.echo("")
    for label, where in _where(settings):
        typer.echo(f"  {label:<10} {where}")
    if not result.success or failed:
        raise typer.Exit(code=1)


@app.command("prepare")
def prepare() -> None:
    """Create DAGSTER_HOME and parse the dbt project (run after deploying new code, before
    restarting the webserver and daemon, so that they load without parsing)."""
    settings = get_settings()
    from orchestration.dbt_project import load_dbt_project
    from orchestration.home import ensure_dagster_home

    home = ensure_dagster_home(settings)
    project = load_dbt_project(settings)
    typer.echo(f"DAGSTER_HOME {home}")
    typer.echo(f"dbt manifest {project.manifest_path}")


@app.command("dev")
def dev(
    port: Annotated[
        int, typer.Option("--port", help="Port of the UI on 127.0.0.1.")
    ] = DEFAULT_PORT,
) -> None:
    """Start the Dagster UI and daemon on 127.0.0.1 (schedule and sensor run); Ctrl-C stops."""
    settings = get_settings()
    from orchestration.home import ensure_dagster_home

    home = ensure_dagster_home(settings)
    dagster = Path(sys.executable).parent / "dagster"
    command = [
        str(dagster),
        "dev",
        "-m",
        "orchestration.definitions",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--working-directory",
        str(PROJECT_ROOT),
    ]
    typer.echo(f"==> Dagster UI on http://127.0.0.1:{port}/ (DAGSTER_HOME={home}); Ctrl-C stops")
    os.chdir(PROJECT_ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this process: Ctrl-C then reaches `dagster dev`, which stops its webserver,
    # daemon and code server cleanly.
    os.execv(str(dagster), command)
