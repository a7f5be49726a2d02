"""The history of a slowly changing table: only what changed lands.

A snapshot table with a key (contract.HISTORY_TABLES) is read whole from the lending core
on every run, as before, but what lands under `<table>/date=<as-of>/` is only the rows
whose key is new, whose content differs from the last landed state, or whose key is gone
(a `deleted` row holding just the key). The first run lands the whole table; after it a
nightly run lands about as many rows as the day changed, not the whole catalogue again.

The landed state before an as-of date D is, per key, the newest row of the partitions
dated before D, unless that row is a deletion. A row landed on D is valid from D until the
next row of its key (staging derives `valid_from` / `valid_to` from exactly this), so the
state on any as-of date is the rows valid on it: the same rows a full copy taken that day
held. Landing again for the same as-of date compares with the state before D and replaces
D's file, as a snapshot taken again replaced its copy.

Content is compared column by column (null equal to null), not through a hash: exact, and
independent of any hash function's version. The lineage columns (`database_id`,
`snapshot_event_id`) are not content: a row unchanged but read at a later event is not a
change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl

from ingestion.contract import CHANGE, Table

_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
DAY = "date"
_PREVIOUS = "__previous_"


def change_files(folder: Path) -> Iterator[tuple[date, Path]]:
    """Every landed change file of a table folder, with its as-of date, oldest first."""
    if not folder.is_dir():
        return
    for partition in sorted(folder.iterdir()):
        match = _PARTITION.match(partition.name)
        if not match:
            continue
        for path in sorted(partition.glob("changes-*.parquet")):
            yield date.fromisoformat(match[1]), path


def read_history(folder: Path, table: Table, before: date | None = None) -> pl.LazyFrame:
    """Every landed change row of a table (optionally only those dated before `before`),
    with its as-of date in `date`."""
    frames = [
        pl.scan_parquet(path, hive_partitioning=False).with_columns(pl.lit(day).alias(DAY))
        for day, path in change_files(folder)
        if before is None or day < before
    ]
    if not frames:
        return pl.LazyFrame(schema={**table.schema, DAY: pl.Date()})
    return pl.concat(frames, how="diagonal_relaxed")


def versions(history: pl.LazyFrame, table: Table) -> pl.LazyFrame:
    """Each landed version with `valid_from` (its date) and `valid_to` (the date of the
    next row of its key, None while current); deletions mark ends, they are no version.
    Rows whose key was removed (the retention rule nulls a patron key) are left out."""
    key = list(table.key)
    return (
        history.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key))
        .sort(DAY)
        .with_columns(
            pl.col(DAY).alias("valid_from"),
            pl.col(DAY).shift(-1).over(key).alias("valid_to"),
        )
        .filter(pl.col(CHANGE.name) != "deleted")
    )


def state_on(history: pl.LazyFrame, table: Table, day: date | None = None) -> pl.DataFrame:
    """The rows valid on `day` (default: the current state), as landed."""
    found = versions(history, table)
    if day is None:
        found = found.filter(pl.col("valid_to").is_null())
    else:
        found = found.filter(
            (pl.col("valid_from") <= day)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") > day))
        )
    return found.drop(DAY, "valid_from", "valid_to").collect()


def changes(
    previous: pl.DataFrame, current: pl.DataFrame, table: Table, lineage: list[pl.Expr]
) -> pl.DataFrame:
    """The rows of `current` (the table as read now, contract columns) that are new or
    changed against `previous` (the landed state), and a `deleted` row per key of
    `previous` that `current` no longer has, with this run's `lineage`; `change` says
    which."""
    key = list(table.key)
    content = table.content_columns
    current = current.drop(CHANGE.name, strict=False)
    earlier = previous.select(
        *key, *(pl.col(c).alias(_PREVIOUS + c) for c in content), pl.lit(True).alias("__known")
    )
    joined = current.join(earlier, on=key, how="left", nulls_equal=False)
    same = pl.all_horizontal(
        [pl.col(c).eq_missing(pl.col(_PREVIOUS + c)) for c in content] or [pl.lit(True)]
    )
    known = pl.col("__known").fill_null(False)
    upserts = (
        joined.with_columns(
            pl.when(~known).then(pl.lit("new")).otherwise(pl.lit("changed")).alias(CHANGE.name)
        )
        .filter(~known | ~same)
        .select([*current.columns, CHANGE.name])
    )
    gone = previous.select(key).join(current.select(key), on=key, how="anti")
    deletions = gone.with_columns(*lineage, pl.lit("deleted").alias(CHANGE.name))
    return table.conform(pl.concat([table.conform(upserts), table.conform(deletions)]))
