"""Command line of the lending core: `bibbla db …`, `bibbla token …`, `bibbla serve`,
`bibbla circulation …`. Commands only parse arguments and call the adapters or use cases."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from bibbla.config import get_settings
from operational.adapters import schema
from operational.adapters.database import is_sqlite
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


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (OpenAPI documentation at /docs)."""
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
    uvicorn.run(
        "operational.entrypoints.api:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
    )
