"""`bibbla ingest`: land the lending core's data and the reference files as Parquet.

    bibbla ingest [--full-refresh]     events, snapshots and reference files
    bibbla ingest events|snapshots|reference
    bibbla ingest verify               every event landed exactly once? histories consistent?
    bibbla ingest compact              turn daily copies into the change history (once)
    bibbla ingest retention [--dry-run]  remove patron keys older than BIBBLA_RETENTION_MONTHS
                                         (with the warehouse: wired in bibbla/cli.py)
    bibbla ingest kb-fetch --year Y    download KB's statistics (needs internet)

Exit status: 0 when every step landed (quarantined rows are reported, and fail the
warehouse's checks, but do not fail the run), 2 when a step refused (the message says why
and what to do).
"""

from __future__ import annotations

import typer

from bibbla.config import get_settings
from ingestion import kb_bibstat
from ingestion.compaction import compact
from ingestion.errors import IngestionError
from ingestion.events import extract_events
from ingestion.pipeline import ingest
from ingestion.reference import land_reference
from ingestion.reference_files import known_municipalities
from ingestion.report import RunReport
from ingestion.snapshots import land_snapshots
from ingestion.verify import (
    check_feed_landing,
    check_histories,
    check_landing_files,
    daily_copies,
)

app = typer.Typer(
    help="Land the lending core's data (pseudonymised) and the reference files as Parquet.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)

FULL_REFRESH = typer.Option(
    False,
    "--full-refresh",
    help="Move the landed events and snapshots aside (landing/_superseded/) and land all "
    "again: needed after the database was rebuilt or the pseudonym key changed.",
)
BATCH_ROWS = typer.Option(
    None, "--batch-rows", min=1, help="Events per batch (default BIBBLA_INGEST_BATCH_ROWS)."
)


def say(message: str) -> None:
    typer.echo(message)


def _finish(report: RunReport) -> None:
    typer.echo(report.summary())
    if report.rows_quarantined:
        typer.secho(
            f"{report.rows_quarantined} rows quarantined in landing/_quarantine/ (see reasons)",
            fg=typer.colors.YELLOW,
            err=True,
        )


def refuse(error: IngestionError) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@app.callback(invoke_without_command=True)
def run_all(
    context: typer.Context, full_refresh: bool = FULL_REFRESH, batch_rows: int | None = BATCH_ROWS
) -> None:
    """Land everything: new events, today's snapshots, the reference files."""
    if context.invoked_subcommand is not None:
        return
    outcome = ingest(get_settings(), full_refresh=full_refresh, batch_rows=batch_rows, progress=say)
    if outcome.rows_quarantined:
        typer.secho(
            f"{outcome.rows_quarantined} rows quarantined in landing/_quarantine/ (see reasons)",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if not outcome.ok:
        typer.secho(f"refused: {', '.join(outcome.errors)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)


@app.command("events")
def events(full_refresh: bool = FULL_REFRESH, batch_rows: int | None = BATCH_ROWS) -> None:
    """Land the circulation events committed since the last run."""
    try:
        _finish(
            extract_events(
                get_settings(), full_refresh=full_refresh, batch_rows=batch_rows, progress=say
            )
        )
    except IngestionError as error:
        raise refuse(error) from None


@app.command("snapshots")
def snapshots() -> None:
    """Copy the slowly changing tables as of the newest event."""
    try:
        _finish(land_snapshots(get_settings(), progress=say))
    except IngestionError as error:
        raise refuse(error) from None


@app.command("compact")
def compact_landing() -> None:
    """Turn a landing of daily copies (before the change history) into the history, once:
    checked copy by copy before anything moves; the copies are kept in _superseded/."""
    try:
        typer.echo(compact(get_settings(), progress=say).summary())
    except IngestionError as error:
        raise refuse(error) from None


@app.command("reference")
def reference(
    through_year: int | None = typer.Option(
        None, help="Last year the yearly series cover (default: the latest year needed)."
    ),
) -> None:
    """Check and land the reference files (population, budget, goals, KB statistics)."""
    try:
        _finish(land_reference(get_settings(), through_year=through_year, progress=say))
    except IngestionError as error:
        raise refuse(error) from None


@app.command("verify")
def verify() -> None:
    """Check that every event of the current database is landed (or quarantined) once, that
    every landed file keeps the landing contract, and that every history reads back as a
    consistent sequence of changes."""
    settings = get_settings()
    check = check_feed_landing(settings)
    for key, value in check.to_dict().items():
        typer.echo(f"{key:>14}: {value}")
    problems = check_landing_files(settings)
    old = daily_copies(settings)
    if old:
        typer.echo(
            f"daily copies (the layout before the history) in: {', '.join(old)}; "
            "`bibbla ingest compact` turns them into the change history"
        )
    else:
        problems += check_histories(settings)
    for problem in problems:
        typer.secho(f"broken landing file: {problem}", fg=typer.colors.RED, err=True)
    if not check.exactly_once:
        typer.secho("the landed feed is not exactly 1..watermark", fg=typer.colors.RED, err=True)
    if problems or not check.exactly_once:
        raise typer.Exit(code=1)


@app.command("kb-fetch")
def kb_fetch(
    year: list[int] = typer.Option(..., "--year", help="Sample year(s) to fetch."),
    municipality: list[str] = typer.Option(
        [], "--municipality", help="SCB code(s); default all of the county."
    ),
    term: list[str] = typer.Option(
        [], "--term", help=f"bibstat variable(s); default {', '.join(kb_bibstat.DEFAULT_TERMS)}."
    ),
) -> None:
    """Download KB's open library statistics into reference/kb_bibstat/official/."""
    settings = get_settings()
    try:
        known = known_municipalities(settings.reference_dir)
        unknown = [code for code in municipality if code not in known]
        if unknown:
            raise IngestionError(f"unknown municipality code(s): {', '.join(unknown)}")
        written = kb_bibstat.fetch_statistics(
            settings.kb_bibstat_url,
            settings.reference_dir / kb_bibstat.FOLDER,
            municipality or sorted(known),
            year,
            term or kb_bibstat.DEFAULT_TERMS,
            progress=say,
        )
    except IngestionError as error:
        raise refuse(error) from None
    typer.echo(f"{len(written)} pages saved; run `bibbla ingest reference` to land them")


if __name__ == "__main__":
    app()
