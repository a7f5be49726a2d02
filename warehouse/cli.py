"""`bibbla warehouse build|docs|advice-export|advice-check`: the dbt project from the
landing to the marts, and the collection balancing advice taken out of it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
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


@app.command("advice-export")
def advice_export_command(
    out: Annotated[Path, typer.Option(help="The moves file to write (CSV).")],
    top: Annotated[int | None, typer.Option(help="Only the best N moves.", min=1)] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Give the advice for this date first (YYYY-MM-DD; default: as built)."),
    ] = None,
) -> None:
    """Write mart_collection_advice's moves (title_id, from_branch_code, to_branch_code,
    copies, ...) for `bibbla simulate --collection-moves`, from the warehouse
    (BIBBLA_WAREHOUSE)."""
    from warehouse.advice import export_advice, give_advice

    settings = get_settings()
    try:
        if as_of:
            give_advice(settings, _date(as_of, "--as-of"))
        written = export_advice(settings.warehouse_path, out, top)
    except WarehouseBuildError as error:
        raise _fail(error) from error
    typer.echo(f"wrote {written} moves to {out}")


@app.command("advice-check")
def advice_check_command(
    baseline: Annotated[Path, typer.Option(help="The baseline run's warehouse (DuckDB file).")],
    rerun: Annotated[
        Path, typer.Option(help="The warehouse of the rerun with the moves (same seed).")
    ],
    moves: Annotated[Path, typer.Option(help="The moves file the rerun made (advice-export).")],
    moves_on: Annotated[str, typer.Option(help="The day the rerun made the moves.")],
    until: Annotated[
        str | None, typer.Option(help="Last day of holds compared (default: the runs' end).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write the figures as JSON to this file.")
    ] = None,
) -> None:
    """The advice's expected saving of hold waits against the simulated one (baseline
    minus rerun) on the moved titles, and their ratio."""
    from warehouse.advice import check_advice

    try:
        check = check_advice(
            baseline,
            rerun,
            moves,
            _date(moves_on, "--moves-on"),
            _date(until, "--until") if until else None,
        )
    except WarehouseBuildError as error:
        raise _fail(error) from error
    if out is not None:
        out.write_text(json.dumps(check.to_json(), indent=2) + "\n", encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(check.to_json(), indent=2))
    else:
        for line in check.lines():
            typer.echo(line)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(
            WarehouseBuildError(f"{option} must be a date (YYYY-MM-DD), not {value!r}")
        ) from None
