"""`bibbla warehouse build|docs`: the dbt project from the landing to the marts."""

from __future__ import annotations

from typing import Annotated

import typer

from bibbla.config import get_settings
from warehouse.build import WarehouseBuildError, build_warehouse, generate_docs, run_dbt

app = typer.Typer(
    help="The warehouse: dbt-duckdb models from the landing to the marts (dbt_project/).",
    no_args_is_help=True,
)


def _fail(error: WarehouseBuildError) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command("build")
def build_command(
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Build only these (dbt selection syntax)."),
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild the incremental facts from scratch.")
    ] = False,
) -> None:
    """Run `dbt build`: landing (BIBBLA_LANDING) -> warehouse (BIBBLA_WAREHOUSE), with tests."""
    try:
        warehouse = build_warehouse(select=select, full_refresh=full_refresh)
    except WarehouseBuildError as error:
        raise _fail(error) from error
    typer.echo(f"built {warehouse}")


@app.command("docs")
def docs_command(
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the docs on http://127.0.0.1:8080/.")
    ] = False,
) -> None:
    """Generate the dbt documentation site (models, columns, lineage, tests)."""
    settings = get_settings()
    try:
        index = generate_docs(settings)
        typer.echo(f"docs in {index.parent}")
        if serve:
            # a server that runs until it is stopped: its own process
            run_dbt(
                ["docs", "serve", "--port", "8080", "--host", "127.0.0.1", "--no-browser"],
                settings,
                in_process=False,
            )
    except WarehouseBuildError as error:
        raise _fail(error) from error
