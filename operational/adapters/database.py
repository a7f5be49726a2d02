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
# How long a writer waits for SQLite's write lock: batch jobs wait long; the API's
# requests wait briefly and are then answered 503 + Retry-After (api/errors.py), so a desk
# is told at once rather than kept waiting behind a queue of writers.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_database_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Engine:
    """An engine for url with this project's connection settings: a pool of pool_size
    connections (+ max_overflow at peaks; a caller waits pool_timeout seconds for one) on
    PostgreSQL, busy_timeout_ms for SQLite's write lock."""
    if is_sqlite(url):
        return _sqlite_engine(url, busy_timeout_ms)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )


def is_busy(error: Exception) -> bool:
    """Whether a database error is SQLite's write lock still held by another writer when
    the busy timeout ran out."""
    return "database is locked" in str(getattr(error, "orig", error))


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
