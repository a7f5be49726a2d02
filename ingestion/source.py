"""Reading the lending core's database: read-only, consistent, columnar.

Ingestion never imports the lending core; it reads its tables (operational/adapters/
tables.py is the schema) over ADBC, which hands back Arrow columns that polars adopts
without copying row by row. One connection holds one read transaction for the whole run
(snapshot isolation: REPEATABLE READ on PostgreSQL, a WAL read transaction on SQLite), so
that the feed's upper bound, the snapshots and the event batches all describe the same
moment, however busy the lending core is meanwhile.

The connection is read-only at the database level: SQLite is opened with `mode=ro`,
PostgreSQL with `default_transaction_read_only=on`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import polars as pl
from sqlalchemy.engine import make_url

from ingestion.errors import OperationalDatabaseUnavailable

# The SQLite driver infers each column's type from the rows of one result batch; with the
# whole result in one batch, a column that is null in its first rows still gets the right
# type. Event batches are bounded by their LIMIT, snapshots by the table's size.
SQLITE_BATCH_ROWS = 2**30
SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


@dataclass(frozen=True)
class DatabaseIdentity:
    database_id: str
    created_at: datetime | None


@dataclass(frozen=True)
class FeedPosition:
    """The newest event visible to this run's transaction (0 and None for an empty feed)."""

    last_event_id: int
    last_occurred_at: datetime | None


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and the run log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def adbc_target(url: str) -> tuple[str, str]:
    """The backend ('sqlite' or 'postgresql') and the read-only ADBC URI for a SQLAlchemy URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise OperationalDatabaseUnavailable(
                f"{redacted(url)}: an in-memory SQLite database cannot be read by ingestion"
            )
        path = Path(parsed.database).resolve()
        if not path.exists():
            raise OperationalDatabaseUnavailable(
                f"{path}: the lending core's database does not exist (run `bibbla db init`)"
            )
        return backend, f"file:{quote(str(path))}?mode=ro"
    if backend == "postgresql":
        user = quote(parsed.username or "", safe="")
        password = f":{quote(parsed.password, safe='')}" if parsed.password else ""
        credentials = f"{user}{password}@" if user else ""
        port = f":{parsed.port}" if parsed.port else ""
        query = dict(parsed.query)
        read_only = "-c default_transaction_read_only=on"
        query["options"] = f"{query['options']} {read_only}" if "options" in query else read_only
        database = quote(parsed.database or "", safe="")
        return backend, (
            f"postgresql://{credentials}{parsed.host or ''}{port}/{database}"
            f"?{urlencode(query, quote_via=quote)}"
        )
    raise OperationalDatabaseUnavailable(
        f"{redacted(url)}: ingestion reads SQLite or PostgreSQL, not {backend}"
    )


class OperationalSource:
    """A read-only, consistent view of the lending core for the length of one run."""

    def __init__(self, url: str):
        self.url = url
        self.backend, self._uri = adbc_target(url)
        self._connection: Any = None

    def __enter__(self) -> OperationalSource:
        try:
            if self.backend == "sqlite":
                import adbc_driver_sqlite.dbapi as driver
            else:
                import adbc_driver_postgresql.dbapi as driver
            self._connection = driver.connect(self._uri)
            if self.backend == "postgresql":
                self._connection.adbc_connection.set_options(
                    **{
                        "adbc.connection.transaction.isolation_level": (
                            "adbc.connection.transaction.isolation.repeatable_read"
                        )
                    }
                )
        except Exception as error:
            raise OperationalDatabaseUnavailable(
                f"cannot open the lending core's database {redacted(self.url)}: {error}"
            ) from error
        return self

    def __exit__(self, *_exc) -> None:
        if self._connection is not None:
            try:
                self._connection.rollback()  # read-only: nothing to keep
            finally:
                self._connection.close()
                self._connection = None

    def placeholder(self, position: int) -> str:
        """The driver's bind parameter marker for the 1-based position."""
        return "?" if self.backend == "sqlite" else f"${position}"

    def frame(self, sql: str, parameters: tuple = ()) -> pl.DataFrame:
        """Run a query in this run's transaction and return its result as a polars frame."""
        cursor = self._connection.cursor()
        try:
            if self.backend == "sqlite":
                cursor.adbc_statement.set_options(
                    **{"adbc.sqlite.query.batch_rows": str(SQLITE_BATCH_ROWS)}
                )
            cursor.execute(sql, parameters or None)
            return pl.from_arrow(cursor.fetch_arrow_table())
        finally:
            cursor.close()

    def has_table(self, name: str) -> bool:
        if self.backend == "sqlite":
            sql = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = (
                "SELECT count(*) AS n FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = $1"
            )
        return self.frame(sql, (name,))["n"][0] > 0

    def identity(self) -> DatabaseIdentity:
        """The database's identity; a database rebuilt by `bibbla db init` has a new one."""
        if not self.has_table("database_identity"):
            raise OperationalDatabaseUnavailable(
                f"{redacted(self.url)} has no lending-core schema (run `bibbla db init`)"
            )
        rows = self.frame("SELECT database_id, created_at FROM database_identity")
        if rows.height != 1:
            raise OperationalDatabaseUnavailable(
                f"{redacted(self.url)} has {rows.height} identities; expected exactly one "
                "(run `bibbla db init`)"
            )
        created = to_utc(rows["created_at"])[0]
        return DatabaseIdentity(str(rows["database_id"][0]), created)

    def feed_position(self) -> FeedPosition:
        """The newest event this run will read; events committed later wait for the next."""
        newest = self.frame(
            "SELECT id, occurred_at FROM circulation_event "
            "WHERE id = (SELECT max(id) FROM circulation_event)"
        )
        if newest.height == 0:
            return FeedPosition(0, None)
        return FeedPosition(int(newest["id"][0]), to_utc(newest["occurred_at"])[0])


def to_utc(values: pl.Series) -> pl.Series:
    """Timestamps as UTC microseconds, whichever way the backend returned them.

    PostgreSQL returns timestamptz; SQLite returns the naive UTC text SQLAlchemy wrote
    (an all-null column comes back as integers). Anything that is not a timestamp becomes
    null; callers that must notice compare nulls before and after.
    """
    if values.dtype == pl.String:
        parsed = values.str.strptime(
            pl.Datetime("us"), SQLITE_TIMESTAMP_FORMAT, strict=False, exact=True
        )
        return parsed.dt.replace_time_zone("UTC")
    if isinstance(values.dtype, pl.Datetime):
        if values.dtype.time_zone is None:
            return values.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
        return values.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    # Anything else (numbers in a SQLite DATETIME column) is no timestamp: all null.
    return pl.Series(values.name, [None] * values.len(), dtype=pl.Datetime("us", "UTC"))


def now_utc() -> datetime:
    return datetime.now(UTC)
