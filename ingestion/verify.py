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
from ingestion import history
from ingestion.contract import CHANGE, CHANGE_KINDS, CIRCULATION_EVENT, HISTORY_TABLES
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
            expected = dict(table.schema)
            if table.is_history and path.name.startswith("snapshot-"):
                # a daily copy of the layout before the history (`bibbla ingest compact`)
                expected.pop(CHANGE.name)
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


def daily_copies(settings: Settings) -> list[str]:
    """The history tables that still hold daily copies (the landing layout before the
    change history): `bibbla ingest compact` turns them into the history."""
    root = settings.landing_path
    return [
        table.name
        for table in HISTORY_TABLES
        if (root / table.name).is_dir() and any((root / table.name).glob("date=*/snapshot-*"))
    ]


def check_histories(
    settings: Settings, tables: list[str] | None = None
) -> list[LandingFileProblem]:
    """Every history table read as a reader rebuilds it: each change file names each key
    once, says new only of a key not in the state before it (never seen, or deleted last),
    changed or deleted only of one in it, and is dated on an as-of date the manifest
    records (a run took it). A history that broke any of these would give readers a wrong
    state. One pass per table: the rows sorted by key and date, each judged against the
    row of its key before it."""
    root = settings.landing_path
    manifest = root / "snapshot_manifest"
    as_of_dates = (
        {p.name.removeprefix("date=") for p in manifest.glob("date=*") if any(p.glob("*.parquet"))}
        if manifest.is_dir()
        else set()
    )
    problems: list[LandingFileProblem] = []
    for table in HISTORY_TABLES:
        if tables is not None and table.name not in tables:
            continue
        key = list(table.key)
        paths = []
        frames = []
        for number, (day, path) in enumerate(history.change_files(root / table.name)):
            paths.append(str(path.relative_to(root)))
            if day.isoformat() not in as_of_dates:
                problems.append(
                    LandingFileProblem(
                        paths[-1], "date", "no snapshot manifest for this as-of date"
                    )
                )
            frames.append(
                pl.scan_parquet(path, hive_partitioning=False)
                .select(*key, CHANGE.name)
                .with_columns(pl.lit(number).alias("__file"))
            )
        if not frames:
            continue
        # The retention rule removes the keys of a patron's ended versions, so a later
        # version of a patron may follow no row that still has its key.
        cleared = "patron_key" in key
        rows = (
            pl.concat(frames)
            .filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key))
            .sort([*key, "__file"])
            .with_columns(
                pl.col(CHANGE.name).shift(1).over(key).alias("__before"),
                pl.col("__file").shift(1).over(key).alias("__file_before"),
            )
        )
        change = pl.col(CHANGE.name)
        in_state = pl.col("__before").is_not_null() & (pl.col("__before") != "deleted")
        verdicts = rows.select(
            "__file",
            pl.when(pl.col("__file") == pl.col("__file_before"))
            .then(pl.lit("a key changes twice"))
            .when(~change.is_in(list(CHANGE_KINDS)))
            .then(pl.lit(f"rows are not {CHANGE_KINDS}"))
            .when((change == "new") & in_state)
            .then(pl.lit("new rows already in the state before it"))
            .when(change.is_in(["changed", "deleted"]) & ~in_state & pl.lit(not cleared))
            .then(change + pl.lit(" rows not in the state before it"))
            .alias("problem"),
        ).filter(pl.col("problem").is_not_null())
        counted = verdicts.group_by("__file", "problem").len().sort("__file", "problem").collect()
        for number, problem, count in counted.iter_rows():
            problems.append(LandingFileProblem(paths[number], CHANGE.name, f"{count} {problem}"))
    return problems
