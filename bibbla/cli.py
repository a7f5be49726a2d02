"""`bibbla`: one command line for every step of the pipeline, and the one place that wires
the packages together (pyproject.toml's import-linter `layers` contract keeps it so).

Each top-level command lives in the package it serves and is imported only when it runs:
`bibbla --help` lists the commands from the table below without importing any of them, so
it stays fast however heavy the steps are (dbt, Dagster, polars, SQLAlchemy).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import click
import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Command:
    """A top-level command: where its Typer app (or function) is, and its one-line help
    for `bibbla --help` (tests/test_cli.py checks it against the command's own)."""

    module: str
    attribute: str
    help: str
    # wires in what the command's own package must not import (the layers contract)
    extend: Callable[[typer.Typer], None] | None = None

    def load(self, name: str) -> click.Command:
        found = getattr(importlib.import_module(self.module), self.attribute)
        if isinstance(found, typer.Typer):
            if self.extend is not None:
                self.extend(found)
            command = typer.main.get_group(found)  # a group, as add_typer would make it
        else:  # a function: a command of its own
            single = typer.Typer(add_completion=False)
            single.command(name)(found)
            command = typer.main.get_command(single)
        command.name = name
        return command


def _retention(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say what would be removed; change nothing."
    ),
) -> None:
    """Remove the patron keys of events older than BIBBLA_RETENTION_MONTHS (default 36)
    from the landing and the warehouse's facts, keeping every aggregate: the counts of
    distinct people of those periods are frozen in the warehouse first
    (ingestion/LANDING.md, "Retention"). dbt's own output goes to stderr."""
    # ingestion's rule with the warehouse's side of it: wired here, since neither package
    # imports the other
    from bibbla.config import get_settings
    from ingestion.cli import refuse, say
    from ingestion.errors import IngestionError
    from ingestion.retention import apply_retention
    from warehouse.build import WarehouseBuildError
    from warehouse.retention import DbtRetentionWarehouse

    settings = get_settings()
    try:
        report = apply_retention(
            settings, DbtRetentionWarehouse(settings), dry_run=dry_run, progress=say
        )
    except IngestionError as error:
        raise refuse(error) from None
    except WarehouseBuildError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(report.summary())


def _with_retention(ingest: typer.Typer) -> None:
    if not any(info.name == "retention" for info in ingest.registered_commands):
        ingest.command("retention")(_retention)


LENDING = "operational.entrypoints.cli"
COMMANDS: dict[str, Command] = {
    "db": Command(LENDING, "db_app", "Create and migrate the lending core's database."),
    "token": Command(LENDING, "token_app", "API bearer tokens."),
    "circulation": Command(LENDING, "circulation_app", "Circulation housekeeping jobs."),
    "patron": Command(LENDING, "patron_app", "Patrons' PINs for the visitors' web."),
    "serve": Command(
        LENDING,
        "serve",
        "Run the HTTP API (OpenAPI documentation at /docs) and the visitors' web (/).",
    ),
    "simulate": Command(
        LENDING,
        "simulate",
        "Fill the lending core with simulated circulation, day by day, through its own rules.",
    ),
    "reports": Command("bibbla.reports", "app", "The Evidence reports: a static web site."),
    "scenario": Command(
        "bibbla.scenarios",
        "app",
        "What-if scenarios: the consortium simulated with another membership timeline.",
    ),
    "ingest": Command(
        "ingestion.cli",
        "app",
        "Land the lending core's data (pseudonymised) and the reference files as Parquet.",
        extend=_with_retention,
    ),
    "pipeline": Command(
        "orchestration.cli",
        "app",
        "The orchestrated pipeline (Dagster): run it now, or start the UI and daemon.",
    ),
    "warehouse": Command(
        "warehouse.cli",
        "app",
        "The warehouse: dbt-duckdb models from the landing to the marts (dbt_project/).",
    ),
    "privacy": Command(
        "privacy.scan", "app", "Check that no personal data has left the lending core."
    ),
}


class LazyCommands(TyperGroup):
    """The commands of COMMANDS, each imported when it is run (or its own help is asked
    for); the group's help lists them from their one-line helps alone."""

    listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = COMMANDS.get(name)
        if command is None:
            return None
        if self.listing:
            return click.Command(name, help=command.help)
        return command.load(name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=LazyCommands,
    help="bibbla: the equal-library-service warehouse for Bergslagsbibblan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _bibbla() -> None:
    """bibbla: the equal-library-service warehouse for Bergslagsbibblan."""


if __name__ == "__main__":
    app()
