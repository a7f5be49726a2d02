"""Fast executemany for bulk writers: rows are converted with SQLAlchemy's own per-column
bind processors (so values are stored exactly as the ORM would store them) and sent to
the driver as plain tuples, skipping the per-row statement compilation that otherwise
costs more than the database write itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache

from sqlalchemy import Connection, Enum, Table

from operational.adapters.tables import UtcDateTime


def _processor(column, dialect) -> Callable | None:
    # The two conversions that dominate bulk writes on SQLite, done directly: UTC
    # timestamps as SQLAlchemy's SQLite DATETIME text (always with microseconds, so text
    # comparison orders them), enum members as their values. Everything else is
    # SQLAlchemy's own processor.
    if dialect.name == "sqlite" and isinstance(column.type, UtcDateTime):
        return _sqlite_utc_text
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return _enum_value
    return column.type._cached_bind_processor(dialect)


def _sqlite_utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the lending core stores UTC only")
    return moment.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")[:26]


def _enum_value(member) -> str:
    return member.value if isinstance(member, StrEnum) else str(member)


@cache
def _plan(table: Table, dialect) -> tuple[list[tuple[int, Callable]], str]:
    """The conversions a row needs (column index, processor) and the INSERT statement."""
    conversions = [
        (index, process)
        for index, column in enumerate(table.columns)
        if (process := _processor(column, dialect)) is not None
    ]
    quote = dialect.identifier_preparer.quote
    names = [quote(column.name) for column in table.columns]
    insert = (
        f"INSERT INTO {quote(table.name)} ({', '.join(names)}) "
        f"VALUES ({', '.join(_mark(dialect) for _ in names)})"
    )
    return conversions, insert


def _mark(dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


@cache
def _update_statement(table: Table, dialect, columns: tuple[int, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    names = [quote(column.name) for column in table.columns]
    assignments = ", ".join(f"{names[i]} = {_mark(dialect)}" for i in columns)
    return f"UPDATE {quote(table.name)} SET {assignments} WHERE {names[0]} = {_mark(dialect)}"


def _converted(conversions: list[tuple[int, Callable]], row: Sequence) -> list:
    values = list(row)
    for index, process in conversions:
        value = values[index]
        if value is not None:
            values[index] = process(value)
    return values


def insert_rows(connection: Connection, table: Table, rows: Sequence[Sequence]) -> None:
    """INSERT rows given as value tuples in the table's column order."""
    if not rows:
        return
    conversions, insert = _plan(table, connection.dialect)
    connection.exec_driver_sql(insert, [tuple(_converted(conversions, row)) for row in rows])


def update_rows(
    connection: Connection, table: Table, rows: Sequence[Sequence], columns: tuple[int, ...]
) -> None:
    """UPDATE the given columns (indexes into the table's columns) of rows given as full
    value tuples in column order, keyed by the first column (the primary key)."""
    if not rows:
        return
    conversions, _ = _plan(table, connection.dialect)
    statement = _update_statement(table, connection.dialect, columns)
    parameters = []
    for row in rows:
        values = _converted(conversions, row)
        parameters.append((*(values[i] for i in columns), values[0]))
    connection.exec_driver_sql(statement, parameters)
