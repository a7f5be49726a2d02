"""Checking the landed feed: every event of the current database exactly once.

The lending core hands out event ids without gaps (operational/adapters/feed.py), so after
a run the landed and quarantined ids of the current database must be exactly 1..watermark:
as many rows as the watermark, all distinct, none outside. A crash that lost or doubled a
batch shows up here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

from bibbla.config import Settings
from ingestion.contract import CIRCULATION_EVENT
from ingestion.landing import QUARANTINE
from ingestion.state import StateStore


@dataclass(frozen=True)
class FeedCheck:
    database_id: str | None
    watermark: int
    landed: int
    quarantined: int
    distinct: int
    lowest: int | None
    highest: int | None

    @property
    def exactly_once(self) -> bool:
        rows = self.landed + self.quarantined
        if self.watermark == 0:
            return rows == 0
        return (
            rows == self.distinct == self.watermark
            and self.lowest == 1
            and self.highest == self.watermark
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "exactly_once": self.exactly_once}


def _ids(pattern: str, database_id: str) -> pl.LazyFrame:
    return (
        pl.scan_parquet(pattern, hive_partitioning=False, missing_columns="insert")
        .filter(pl.col("database_id") == database_id)
        .select("id")
    )


def check_feed_landing(settings: Settings) -> FeedCheck:
    """Count the landed and quarantined events of the landing's current database."""
    root = settings.landing_path
    state = StateStore(root).read()
    database_id = state.current_database_id
    if database_id is None:
        return FeedCheck(None, 0, 0, 0, 0, None, None)
    table = CIRCULATION_EVENT.name
    frames = {}
    for name, folder in (("landed", root / table), ("quarantined", root / QUARANTINE / table)):
        has_files = folder.exists() and any(folder.rglob("*.parquet"))
        frames[name] = (
            _ids(str(folder / "**" / "*.parquet"), database_id)
            if has_files
            else pl.LazyFrame(schema={"id": pl.Int64})
        )
    counts = {name: frame.select(pl.len()).collect().item() for name, frame in frames.items()}
    summary = (
        pl.concat(list(frames.values()))
        .select(
            pl.col("id").n_unique().alias("distinct"),
            pl.col("id").min().alias("lowest"),
            pl.col("id").max().alias("highest"),
        )
        .collect()
        .row(0, named=True)
    )
    return FeedCheck(
        database_id,
        state.watermark,
        counts["landed"],
        counts["quarantined"],
        summary["distinct"],
        summary["lowest"],
        summary["highest"],
    )


@dataclass(frozen=True)
class LandingFileProblem:
    """A landed file that does not keep the landing contract: which file, which field."""

    path: str
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = f", field '{self.field}'" if self.field else ""
        return f"{self.path}{where}: {self.problem}"


def check_landing_files(
    settings: Settings, tables: list[str] | None = None
) -> list[LandingFileProblem]:
    """Every landed file of the given tables (default all) checked against the contract:
    it can be read, holds exactly the contract's columns with the contract's types, and sits
    in a `date=YYYY-MM-DD` partition where the table is partitioned. A problem names the
    file and the field, so a broken file is found before anything is built on it."""
    from datetime import date

    from ingestion.contract import TABLES

    root = settings.landing_path
    problems: list[LandingFileProblem] = []
    for name in tables or sorted(TABLES):
        table = TABLES[name]
        folder = root / name
        if not folder.exists():
            continue
        for path in sorted(folder.rglob("*.parquet")):
            if path.name.startswith("."):
                continue  # a temporary file being written
            relative = str(path.relative_to(root))
            if table.kind != "reference":
                partition = path.parent.name
                try:
                    if not partition.startswith("date="):
                        raise ValueError
                    date.fromisoformat(partition.removeprefix("date="))
                except ValueError:
                    problems.append(
                        LandingFileProblem(
                            relative, "date", f"not in a date=YYYY-MM-DD partition ({partition})"
                        )
                    )
            try:
                schema = pl.read_parquet_schema(path)
            except Exception as error:  # polars says what is wrong with the bytes
                problems.append(LandingFileProblem(relative, None, f"cannot be read: {error}"))
                continue
            expected = table.schema
            for column, dtype in expected.items():
                if column not in schema:
                    problems.append(LandingFileProblem(relative, column, "column is missing"))
                elif schema[column] != dtype:
                    problems.append(
                        LandingFileProblem(
                            relative,
                            column,
                            f"has type {schema[column]}, the contract says {dtype}",
                        )
                    )
            for column in schema:
                if column not in expected:
                    problems.append(
                        LandingFileProblem(
                            relative, column, "column is not in the landing contract"
                        )
                    )
    return problems
