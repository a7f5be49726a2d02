"""Command line of the lending core: `bibbla db …`, `bibbla token …`, `bibbla serve`,
`bibbla circulation …`, `bibbla patron …` (PINs for the visitors' web). Commands only parse
arguments and call the adapters or use cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bibbla.config import get_settings
from operational.adapters import schema
from operational.adapters.database import is_sqlite
from operational.adapters.feed import simulation_run as feed_simulation_run
from operational.adapters.reference_data import ReferenceDataError
from operational.bootstrap import engine_for, unit_of_work
from operational.clock import SystemClock
from operational.domain import errors
from operational.domain.access import Role
from operational.service_layer import access, services

console = Console(stderr=True)
DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: BIBBLA_OPERATIONAL_DB).")
]

db_app = typer.Typer(help="Create and migrate the lending core's database.", no_args_is_help=True)
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
circulation_app = typer.Typer(help="Circulation housekeeping jobs.", no_args_is_help=True)
patron_app = typer.Typer(help="Patrons' PINs for the visitors' web.", no_args_is_help=True)


def _url(db: str | None) -> str:
    return db or get_settings().operational_db_url


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@db_app.command("init")
def db_init(
    db: DbOption = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop every table first: a new, empty database.")
    ] = False,
) -> None:
    """Create (or bring up to date) the database, give it an identity, load reference data."""
    url = _url(db)
    engine = engine_for(url)
    if reset:
        schema.drop_all(engine)
        console.print("dropped the existing tables")
    try:
        database_id, counts = schema.init(engine, get_settings().reference_dir)
    except ReferenceDataError as error:
        raise _fail(str(error)) from None
    loaded = ", ".join(f"{count} {table}" for table, count in counts.items())
    console.print(f"database {engine.url.render_as_string(hide_password=True)}")
    console.print(f"identity {database_id}")
    console.print(f"reference data: {loaded}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply any new schema migrations."""
    schema.upgrade(engine_for(_url(db)))
    console.print("schema is up to date")


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="What the token may do.")],
    name: Annotated[str, typer.Option(help="A unique name, e.g. who holds it.")],
    expires_in: Annotated[
        int | None, typer.Option("--expires-in", help="Days until it expires.", min=1)
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a token and print its secret once (only a hash is stored)."""
    try:
        secret = access.create_token(
            unit_of_work(engine_for(_url(db))), SystemClock(), name, role, expires_in
        )
    except errors.DomainError as error:
        raise _fail(str(error)) from None
    console.print(f"token '{name}' ({role}); store it now, it is not shown again:")
    print(secret)


@token_app.command("revoke")
def token_revoke(name: str, db: DbOption = None) -> None:
    """Revoke a token by name."""
    try:
        access.revoke_token(unit_of_work(engine_for(_url(db))), SystemClock(), name)
    except errors.DomainError as error:
        raise _fail(str(error)) from None
    console.print(f"token '{name}' revoked")


@circulation_app.command("housekeeping")
def housekeeping(db: DbOption = None) -> None:
    """Expire holds not picked up in time and mark transports lost after 30 days."""
    engine = engine_for(_url(db))
    clock = SystemClock()
    expired = services.expire_holds(unit_of_work(engine), clock)
    lost = services.mark_lost_transports(unit_of_work(engine), clock)
    console.print(f"{expired} holds expired, {lost} transports marked lost")


@patron_app.command("set-pin")
def patron_set_pin(
    card_number: Annotated[str, typer.Argument(help="The patron's card number.")],
    pin_stdin: Annotated[
        bool, typer.Option("--pin-stdin", help="Read the PIN from standard input.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set a patron's PIN (4-8 digits) for logging in to the visitors' web. The PIN is asked
    for without echo (or read from standard input); only its Argon2id hash is stored."""
    import sys

    from operational.adapters.pin_hashing import Argon2PinHasher
    from operational.service_layer import visitors

    if pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = typer.prompt("PIN", hide_input=True, confirmation_prompt=True)
    try:
        visitors.set_pin(
            unit_of_work(engine_for(_url(db))), SystemClock(), Argon2PinHasher(), card_number, pin
        )
    except errors.DomainError as error:
        raise _fail(str(error)) from None
    console.print("PIN set; the patron's open web sessions have ended")


@patron_app.command("demo-card")
def patron_demo_card(db: DbOption = None) -> None:
    """Pick a simulated patron with loans, give them a new random PIN and print the card
    number and PIN, to log in to the visitors' web with (simulated data only)."""
    from operational.adapters.pin_hashing import Argon2PinHasher
    from operational.domain.visitors import new_pin
    from operational.service_layer import visitors

    engine = engine_for(_url(db))
    with unit_of_work(engine, read_only=True) as reading:
        if feed_simulation_run(reading.session) is None:
            raise _fail(
                "this database was not filled by `bibbla simulate`; set a PIN with "
                "`bibbla patron set-pin CARD` instead"
            )
        card = visitors.demo_card(reading)
    if card is None:
        raise _fail("no patron has a loan yet; run `bibbla simulate` first")
    pin = new_pin()
    visitors.set_pin(unit_of_work(engine), SystemClock(), Argon2PinHasher(), card, pin)
    settings = get_settings()
    console.print(
        "a simulated patron for the visitors' web "
        f"(`bibbla serve`: http://{settings.api_host}:{settings.api_port}/):"
    )
    print(f"card number {card}  PIN {pin}")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (OpenAPI documentation at /docs) and the visitors' web (/)."""
    import os

    import uvicorn

    settings = get_settings()
    if db:
        os.environ["BIBBLA_OPERATIONAL_DB"] = db  # the workers read the settings themselves
        get_settings.cache_clear()
    url = _url(db)
    if not schema.is_initialised(engine_for(url)):
        raise _fail("the database is not initialised; run `bibbla db init` first")
    if workers > 1 and is_sqlite(url):
        console.print("note: SQLite allows one writer at a time; workers queue for it")
    address = f"http://{host or settings.api_host}:{port or settings.api_port}"
    console.print(f"the visitors' web on {address}/ and the API on {address}/docs")
    uvicorn.run(
        "operational.entrypoints.api:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
    )


def simulate(
    start: Annotated[str, typer.Option(help="First simulated day (YYYY-MM-DD).")] = "2024-01-01",
    end: Annotated[str, typer.Option(help="Last simulated day (YYYY-MM-DD).")] = "2026-10-31",
    seed: Annotated[int, typer.Option(help="Random seed: same seed and dates, same data.")] = 42,
    scale: Annotated[
        float, typer.Option(help="Share of the real population simulated (0 < scale <= 1).")
    ] = 1.0,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the simulation already in the database.")
    ] = False,
    days: Annotated[
        int | None, typer.Option(help="Simulate only this many more days.", min=1)
    ] = None,
    no_join: Annotated[
        bool,
        typer.Option("--no-join", help="Counterfactual: no municipality joins during the run."),
    ] = False,
    membership_file: Annotated[
        Path | None, typer.Option(help="Another membership timeline (municipalities.csv format).")
    ] = None,
    collection_moves: Annotated[
        Path | None,
        typer.Option(
            help="Collection moves to make (CSV: title_id, from_branch_code, to_branch_code, "
            "copies; `bibbla warehouse advice-export` writes it). Needs --moves-on."
        ),
    ] = None,
    moves_on: Annotated[
        str | None, typer.Option(help="The simulated day the collection moves are made on.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Fill the lending core with simulated circulation, day by day, through its own rules."""
    import tempfile
    from datetime import date, timedelta

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from operational.simulation.collection_moves import read_moves
    from operational.simulation.report import calibration_table, format_table
    from operational.simulation.runner import StopAfterDay, run_days, without_joins
    from operational.simulation.simulator import Simulation

    settings = get_settings()
    engine = engine_for(_url(db))
    reference = settings.reference_dir
    try:
        if resume:
            if collection_moves or moves_on:
                raise _fail("a resumed run makes the collection moves it was started with")
            simulation = Simulation.resume(engine, reference)
            first = simulation.next_day()
            last = first + timedelta(days=days - 1) if days else simulation.params.end
        else:
            if not 0 < scale <= 1:
                raise _fail("--scale must be in (0, 1]")
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            if last < first:
                raise _fail("--end is before --start")
            if (collection_moves is None) != (moves_on is None):
                raise _fail("--collection-moves and --moves-on go together")
            moves = read_moves(collection_moves) if collection_moves else []
            moves_day = date.fromisoformat(moves_on) if moves_on else None
            scenario = "baseline"
            timeline = membership_file
            with tempfile.TemporaryDirectory() as folder:
                if no_join:
                    timeline, scenario = without_joins(reference, first, Path(folder)), "no_join"
                elif membership_file is not None:
                    scenario = f"membership:{membership_file.name}"
                schema.init(engine, reference, timeline)
            simulation = Simulation.create(
                engine,
                reference,
                seed,
                scale,
                first,
                last,
                scenario,
                progress=console.print,
                collection_moves=moves,
                moves_on=moves_day,
            )
            if days:
                last = min(last, first + timedelta(days=days - 1))
    except (errors.DomainError, ReferenceDataError, ValueError) as error:
        raise _fail(str(error)) from None

    total_days = max((last - simulation.next_day()).days + 1, 0)
    counted = {"events": 0, "seconds": 0.0}
    columns = [
        TextColumn("[bold]{task.fields[day]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console) as progress, StopAfterDay() as stop:
        task = progress.add_task("simulating", total=total_days, day="", rate="-")

        def on_day(report, seconds: float) -> None:
            counted["events"] += report.events
            counted["seconds"] += seconds
            rate = counted["events"] / counted["seconds"] if counted["seconds"] else 0
            progress.update(task, advance=1, day=str(report.day), rate=f"{rate:,.0f}")
            if not console.is_terminal and report.day.day == 1:
                # No live bar in a log or a pipe: a line a simulated month instead.
                console.print(f"simulated up to {report.day}, {rate:,.0f} events/s")

        reports = run_days(simulation, last, on_day, stop)
    done = reports[-1].day if reports else simulation.last_finished_day
    console.print(
        f"simulated {len(reports)} days up to {done}: {counted['events']:,} events in "
        f"{counted['seconds']:.1f} s"
    )
    if simulation.moves_done is not None:
        done = simulation.moves_done
        console.print(
            f"collection moves on {simulation.params.moves_on}: {done.moved} of {done.asked} "
            f"copies moved ({done.missing} not on the shelf at the source then)"
        )
    if stop.requested:
        console.print("stopped after the current day; continue with `bibbla simulate --resume`")
    console.print(
        "calibration (target→simulated, deviation; simulated data, scale "
        f"{simulation.params.scale}):"
    )
    print(format_table(calibration_table(simulation)))
