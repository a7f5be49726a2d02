"""Row checks against the landing contract, and the split into landed and quarantined rows.

A row that breaks the contract (a key that is null, a value of the wrong type, an
impossible date, a branch the lending core does not know) is not dropped: it goes to the
quarantine with every reason it failed, is counted in the run's report, and makes a
downstream check fail. Checks are polars expressions, evaluated column-wise on a batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ingestion.contract import QUARANTINE_REASON, Table
from ingestion.errors import PersonalColumnRead
from ingestion.source import to_utc
from privacy.rules import PATRON_NAME, Handling, handling

REASON = QUARANTINE_REASON.name
SEPARATOR = "; "
# Timestamps outside these bounds are impossible for this consortium's data: the feed
# starts with Bergslagsbibblan (2016) and nothing is scheduled a lifetime ahead.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_KIND = {
    pl.Int64: "an integer",
    pl.Float64: "a number",
    pl.Boolean: "a boolean",
    pl.Date: "a date",
    pl.Datetime: "a timestamp",
    pl.String: "text",
}


@dataclass
class Checked:
    """A batch split into rows that land and rows that go to quarantine."""

    landed: pl.DataFrame
    quarantined: pl.DataFrame
    reasons: Counter[str] = field(default_factory=Counter)


def check_selection(table: Table, columns: Iterable[str]) -> None:
    """Refuse a read that selected a column ingestion never reads (privacy/rules.py): only
    the ones it turns into patron_key and age_band may be read at all."""
    never_read = [
        column
        for column in columns
        if handling(column) is Handling.NEVER_READ
        or (column == PATRON_NAME and table.about_patrons)
    ]
    if never_read:
        raise PersonalColumnRead(
            f"{table.name}: ingestion selected {', '.join(never_read)} from the lending core, "
            "which it must never read (privacy/rules.py)"
        )


def drop_personal(checked: Checked) -> Checked:
    """The personal columns that were read only to be pseudonymised or generalised
    (privacy/rules.py): the checks needed them; they go no further."""
    for name in ("landed", "quarantined"):
        frame = getattr(checked, name)
        setattr(checked, name, frame.drop([c for c in frame.columns if handling(c) is not None]))
    return checked


def coerce_column(values: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Convert one column read from either backend to its contract type (failures -> null)."""
    if isinstance(dtype, pl.Datetime):
        return to_utc(values)
    if values.null_count() == values.len():
        return pl.Series(values.name, [None] * values.len(), dtype=dtype)
    if dtype == pl.Date:
        if isinstance(values.dtype, pl.Datetime):
            return values.dt.date()
        if values.dtype != pl.Date:  # text in SQLite; numbers would be no date at all
            return values.cast(pl.String).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    if dtype == pl.String:
        return values.cast(pl.String)
    try:
        return values.cast(dtype, strict=False)
    except pl.exceptions.InvalidOperationError:  # no conversion exists: nothing is valid
        return pl.Series(values.name, [None] * values.len(), dtype=dtype)


def coerce(
    frame: pl.DataFrame, schema: dict[str, pl.DataType]
) -> tuple[pl.DataFrame, list[pl.Expr]]:
    """The frame with every column of `schema` it has converted, and one check per column
    that flags values present in the source but not convertible."""
    typed, checks = [], []
    for name, dtype in schema.items():
        if name not in frame.columns:
            continue
        raw = frame[name]
        converted = coerce_column(raw, dtype).alias(name)
        typed.append(converted)
        if raw.dtype != converted.dtype:
            lost = raw.is_not_null() & converted.is_null()
            if lost.any():
                kind = _KIND.get(type(dtype), str(dtype))
                checks.append(pl.when(pl.lit(lost)).then(pl.lit(f"{name} is not {kind}")))
    return frame.with_columns(typed), checks


def required(columns: Iterable[str], when: pl.Expr | None = None) -> list[pl.Expr]:
    """Checks that each column is present (optionally only on rows matching `when`)."""
    checks = []
    for column in columns:
        missing = pl.col(column).is_null()
        condition = missing if when is None else (when & missing)
        checks.append(pl.when(condition).then(pl.lit(f"{column} is missing")))
    return checks


def known_branch(columns: Iterable[str], branch_codes: set[str]) -> list[pl.Expr]:
    """Checks that each branch column, where filled, names a branch of the lending core."""
    known = pl.Series(sorted(branch_codes), dtype=pl.String)
    return [
        pl.when(pl.col(c).is_not_null() & ~pl.col(c).is_in(known.implode())).then(
            pl.lit(f"{c} is not a known branch")
        )
        for c in columns
    ]


def plausible_time(columns: Iterable[str]) -> list[pl.Expr]:
    """Checks that timestamps fall within the years this data can describe."""
    return [
        pl.when(
            pl.col(c).is_not_null()
            & ((pl.col(c) < pl.lit(EARLIEST)) | (pl.col(c) >= pl.lit(LATEST)))
        ).then(pl.lit(f"{c} is outside {EARLIEST.year}-{LATEST.year - 1}"))
        for c in columns
    ]


def split(frame: pl.DataFrame, checks: list[pl.Expr]) -> Checked:
    """Evaluate every check; rows failing any go to quarantine with all their reasons."""
    if not checks or frame.height == 0:
        return Checked(frame, frame.head(0).with_columns(pl.lit(None, pl.String).alias(REASON)))
    reason = pl.concat_str(checks, separator=SEPARATOR, ignore_nulls=True)
    judged = frame.with_columns(pl.when(reason == "").then(None).otherwise(reason).alias(REASON))
    failed = judged[REASON].is_not_null()
    quarantined = judged.filter(failed)
    reasons: Counter[str] = Counter()
    for text, count in quarantined[REASON].value_counts().iter_rows():
        for part in text.split(SEPARATOR):
            reasons[part] += count
    return Checked(judged.filter(~failed).drop(REASON), quarantined, reasons)
