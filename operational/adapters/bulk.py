"""Fast executemany for bulk writers: rows are converted with SQLAlchemy's own per-column
bind processors (so values are stored exactly as the ORM would store them) and sent to
the driver as plain tuples, skipping the per-row statement compilation that otherwise
costs more than the database write itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache, lru_cache

from sqlalchemy import JSON, Connection, Enum, Table

from operational.adapters.tables import UtcDateTime


def _processor(column, dialect) -> Callable | None:
    # The two conversions that dominate bulk writes on SQLite, done directly: UTC
    # timestamps as SQLAlchemy's SQLite DATETIME text (always with microseconds, so text
    # comparison orders them), enum members as their values. Everything else is
    # SQLAlchemy's own processor.
    if dialect.name == "sqlite" and isinstance(column.type, UtcDateTime):
        return _sqlite_utc_text
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        enum_class = column.type.enum_class
        if issubclass(enum_class, StrEnum) and enum_class.__str__ is str.__str__:
            return str  # a member's text is its value: the same as _enum_value, in C
        return _enum_value
    process = column.type._cached_bind_processor(dialect)
    if process is not None and isinstance(column.type, JSON):
        return _small_json(process)
    return process


def _small_json(process: Callable) -> Callable:
    """The JSON processor, remembering its text for the small documents that recur (event
    details such as {}, {"overdue": false} or {"route": "hub"}: at most one key, with a
    plain value)."""
    empty = process({})
    if type(empty) is not str:
        return process  # a driver-side JSON object (PostgreSQL): nothing to remember
    memo: dict[tuple, str] = {}

    def convert(value):
        if type(value) is dict and len(value) <= 1:
            if not value:
                return empty
            ((name, plain),) = value.items()
            kind = type(plain)
            if kind is bool or kind is str or kind is int:
                key = (name, kind, plain)
                text = memo.get(key)
                if text is None:
                    if len(memo) >= 4096:
                        memo.clear()
                    text = memo[key] = process(value)
                return text
        return process(value)

    return convert


# A day's rows share few distinct moments (an event, its loan and the item's change are
# stamped with the same clock reading): remember the recent conversions.
@lru_cache(maxsize=1 << 16)
def _sqlite_utc_text(moment: datetime) -> str:
    """moment.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")[:26], with the
    date and hour written once per hour (formatting a whole timestamp is slow)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the lending core stores UTC only")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    hour = moment.toordinal() * 24 + moment.hour
    prefix = _HOUR_PREFIX.get(hour)
    if prefix is None:
        if len(_HOUR_PREFIX) >= 1 << 16:
            _HOUR_PREFIX.clear()
        whole = moment.replace(minute=0, second=0, microsecond=0)
        prefix = _HOUR_PREFIX[hour] = whole.isoformat(sep=" ", timespec="microseconds")[:14]
    seconds = _MINUTE_SECOND[moment.minute * 60 + moment.second]
    return prefix + seconds + str(moment.microsecond + 1_000_000)[1:]


_HOUR_PREFIX: dict[int, str] = {}  # "YYYY-MM-DD HH:" of each UTC hour met
_MINUTE_SECOND = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]  # "MM:SS."


def _enum_value(member) -> str:
    return member._value_ if isinstance(member, StrEnum) else str(member)


def _mark(dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


@cache
def insert_sql(table: Table, dialect) -> str:
    """An INSERT of every column of the table, for executemany."""
    quote = dialect.identifier_preparer.quote
    names = [quote(column.name) for column in table.columns]
    return (
        f"INSERT INTO {quote(table.name)} ({', '.join(names)}) "
        f"VALUES ({', '.join(_mark(dialect) for _ in names)})"
    )


@cache
def update_sql(table: Table, dialect, columns: tuple[int, ...]) -> str:
    """An UPDATE of the given columns (indexes into the table's columns), keyed by the
    first column (the primary key): its parameters are those columns' values, then the
    key's."""
    quote = dialect.identifier_preparer.quote
    names = [quote(column.name) for column in table.columns]
    assignments = ", ".join(f"{names[i]} = {_mark(dialect)}" for i in columns)
    return f"UPDATE {quote(table.name)} SET {assignments} WHERE {names[0]} = {_mark(dialect)}"


def _compile_row(
    columns: Sequence, dialect, expressions: Sequence[str], arguments: str
) -> Callable[..., tuple]:
    """A function of `arguments` returning the driver values of `columns`, each column's
    value given as a Python expression of the arguments, written out as one expression
    (it runs for every row written): None stays None, every other value goes through its
    column's processor."""
    processors: dict[str, Callable] = {}
    parts = []
    for n, (column, expression) in enumerate(zip(columns, expressions, strict=True)):
        process = _processor(column, dialect)
        if process is None:
            parts.append(expression)
        else:
            processors[f"p{n}"] = process
            parts.append(f"(None if (v{n} := {expression}) is None else p{n}(v{n}))")
    return eval(f"lambda {arguments}: ({', '.join(parts)},)", processors)


@cache
def _converter(table: Table, dialect, columns: tuple[int, ...]) -> Callable[[Sequence], tuple]:
    """A function taking a row (values in the table's column order) to the driver values
    of the given columns."""
    return _compile_row(
        [table.columns[i] for i in columns], dialect, [f"r[{i}]" for i in columns], "r"
    )


@cache
def _values_converter(table: Table, dialect, columns: tuple[int, ...]) -> Callable:
    """A function taking the values of the given columns, in that order, to their driver
    values."""
    return _compile_row(
        [table.columns[i] for i in columns], dialect, [f"r[{n}]" for n in range(len(columns))], "r"
    )


def insert_rows(connection: Connection, table: Table, rows: Sequence[Sequence]) -> None:
    """INSERT rows given as value tuples in the table's column order."""
    if not rows:
        return
    dialect = connection.dialect
    convert = _converter(table, dialect, tuple(range(len(table.columns))))
    connection.exec_driver_sql(insert_sql(table, dialect), list(map(convert, rows)))


def update_values(
    connection: Connection, table: Table, columns: tuple[int, ...], rows: Sequence[Sequence]
) -> None:
    """UPDATE the given columns (indexes into the table's columns) of rows given as those
    columns' values followed by the row's primary key (its first column)."""
    if not rows:
        return
    dialect = connection.dialect
    convert = _values_converter(table, dialect, (*columns, 0))
    connection.exec_driver_sql(update_sql(table, dialect, columns), list(map(convert, rows)))
