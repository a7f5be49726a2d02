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
