"""Engines for the lending core's database: SQLite (WAL, foreign keys on) by default,
PostgreSQL by setting one URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# SQLite allows one writer. A write transaction takes the write lock when it starts
# (BEGIN IMMEDIATE) rather than when it first writes, so two writers never both read and
# then fail to upgrade; a read-only one begins DEFERRED and does not block writers in WAL.
READ_ONLY = "bibbla_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_database_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for url with this project's connection settings."""
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
