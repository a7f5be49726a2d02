"""A throwaway copy of the whole pipeline for the warehouse benchmarks: a lending-core
database (SQLite), a landing, a DuckDB warehouse and a DAGSTER_HOME in one folder, driven
through the same command line a user runs (`bibbla simulate`, `bibbla ingest`,
`bibbla warehouse build`, `bibbla pipeline run`), each step a measured child process.

Also the cheap way to big volumes, `replicate_landing` (k copies of the landed circulation
with new ids and patron keys), and what a landing holds (`landing_size`: the change history
against the daily copies it replaced).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from benchmarks.common import Run, run_measured
from bibbla.config import PROJECT_ROOT
from ingestion import contract

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
KEY = "benchmark-pseudonym-key-0123456789abcdef"


@dataclass
class Lab:
    root: Path

    @property
    def operational(self) -> Path:
        return self.root / "operational.sqlite"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def landing(self) -> Path:
        return self.data / "landing"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIBBLA_")}
        env.update(
            {
                "BIBBLA_ENV": "test",
                "BIBBLA_DATA_DIR": str(self.data),
                "BIBBLA_LANDING": str(self.landing),
                "BIBBLA_WAREHOUSE": str(self.warehouse),
                "BIBBLA_OPERATIONAL_DB": f"sqlite:///{self.operational}",
                "BIBBLA_PSEUDONYM_KEY": KEY,
                "DAGSTER_HOME": str(self.root / "dagster_home"),
                "DBT_TARGET_PATH": str(self.root / "dbt-target"),
                "DBT_LOG_PATH": str(self.root / "dbt-logs"),
            }
        )
        env.update(extra)
        return env

    def bibbla(self, *arguments: str) -> Run:
        return run_measured([BIBBLA, *arguments], env=self.env(), cwd=PROJECT_ROOT)

    # the steps
    def init(self) -> Run:
        return self.bibbla("db", "init", "--reset")

    def simulate(self, start: str, end: str, scale: float, seed: int = 42) -> Run:
        return self.bibbla(
            "simulate", "--start", start, "--end", end, "--scale", str(scale), "--seed", str(seed)
        )

    def simulate_more(self, days: int) -> Run:
        return self.bibbla("simulate", "--resume", "--days", str(days))

    def ingest(self, *flags: str) -> Run:
        return self.bibbla("ingest", *flags)

    def build(self, *flags: str) -> Run:
        return self.bibbla("warehouse", "build", *flags)

    def pipeline(self, *flags: str) -> Run:
        return self.bibbla("pipeline", "run", *flags)

    def _copy_or_link(self, source: str, destination: str) -> None:
        """Landed files are hard links in a copy: ingestion never changes one in place (it
        writes a temporary file and renames it), so a link is a faithful copy at no disk
        cost, which matters once a landing holds a snapshot a day of a full-scale catalogue.
        The ingestion state folder is copied (its run log is appended to), as is
        everything outside the landing (the warehouse file is written in place)."""
        path = Path(source)
        if (
            path.is_relative_to(self.landing)
            and "_state" not in path.relative_to(self.landing).parts
        ):
            os.link(source, destination)
        else:
            shutil.copy2(source, destination)

    def copy_to(self, root: Path) -> Lab:
        """A copy of this lab's state (database, landing, warehouse, Dagster runs)."""
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        # the database with its write-ahead log, if SQLite left one
        for file in self.root.glob("operational.sqlite*"):
            shutil.copy2(file, root / file.name)
        if self.data.exists():
            shutil.copytree(
                self.data, root / "data", symlinks=True, copy_function=self._copy_or_link
            )
        if (self.root / "dagster_home").exists():
            shutil.copytree(self.root / "dagster_home", root / "dagster_home")
        return Lab(root)


# ------------------------------------------------------------------ volumes made cheaply


def landing_size(landing: Path) -> dict[str, dict[str, int]]:
    """Per history table (and in total): the files, rows and bytes landed, and the rows
    the same as-of dates held as daily copies (the layout before the change history: one
    whole copy per as-of date, i.e. the sum over the manifest's dates of the rows valid
    on each), so that one landing gives both the after and the before."""
    connection = duckdb.connect()
    sizes: dict[str, dict[str, int]] = {}
    try:
        dates = connection.execute(
            f"select distinct cast(date as date) from {_glob(landing, 'snapshot_manifest')}"
        ).fetchall()
        connection.execute("create temporary table as_of(day date)")
        connection.executemany("insert into as_of values (?)", dates)
        for table in contract.HISTORY_TABLES:
            paths = sorted((landing / table.name).glob("date=*/*.parquet"))
            if not paths:
                continue
            key = ", ".join(table.key)
            rows, copy_rows = connection.execute(
                f"""
                with versions as (
                    select cast(date as date) as valid_from,
                           lead(cast(date as date)) over (partition by {key} order by date)
                               as valid_to,
                           change
                    from {_glob(landing, table.name)}
                )
                select
                    (select count(*) from versions),
                    (select count(*) from versions join as_of
                        on valid_from <= day and (valid_to is null or valid_to > day)
                     where change <> 'deleted')
                """
            ).fetchone()
            sizes[table.name] = {
                "files": len(paths),
                "rows": rows,
                "bytes": sum(path.stat().st_size for path in paths),
                "rows_as_daily_copies": copy_rows,
            }
    finally:
        connection.close()
    sizes["total"] = {
        key: sum(size[key] for size in sizes.values()) for key in next(iter(sizes.values()))
    }
    sizes["total"]["as_of_dates"] = len(dates)
    return sizes


def landed_by_last_snapshot_run(landing: Path) -> dict[str, int]:
    """Rows the last snapshot run landed per history table (from _state/runs.jsonl)."""
    lines = (landing / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    for line in reversed(lines):
        report = json.loads(line)
        if report.get("step") == "snapshots":
            tables = report.get("tables", {})
            return {
                table.name: tables.get(table.name, {}).get("rows_landed", 0)
                for table in contract.HISTORY_TABLES
            }
    return {}


# The id columns of each table that must be made distinct in a copy, and the patron key.
_EVENT_IDS = ("id", "loan_id", "hold_id", "transport_id", "item_id")
_SNAPSHOT_IDS = {
    "item": ("id",),
    "open_loan": ("id", "item_id", "hold_id"),
    "active_hold": ("id", "item_id"),
    "open_transport": ("id", "item_id", "hold_id"),
    "patron": (),
}


def replicate_landing(source: Path, target: Path, copies: int) -> dict[str, int]:
    """A landing `copies` times as large as `source`: the events, items, patrons, open
    loans, holds and transports each `copies` times, copy k with every id shifted by k
    times the table's largest id and every patron key re-hashed with k, so that each copy
    is a separate population borrowing its own items, on the same days, at the same
    branches, from the same catalogue. The simulation's `scale` is multiplied by `copies`,
    so per-capita figures stay what they were. Reference tables, the quarantine and the
    small snapshot tables (branches, municipalities, rules, …) are copied as they are.
    Returns the rows written per table."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("_superseded"))
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    written: dict[str, int] = {}
    try:
        shift = {}
        for column in _EVENT_IDS:
            shift[column] = _max_id(connection, source, "circulation_event", column)
        for table, columns in _SNAPSHOT_IDS.items():
            for column in columns:
                shift[column] = max(
                    shift.get(column, 0), _max_id(connection, source, table, column)
                )
        event_count = written["circulation_event"] = _replicate(
            connection, source, target, "circulation_event", _EVENT_IDS, shift, copies
        )
        for table, columns in _SNAPSHOT_IDS.items():
            written[table] = _replicate(connection, source, target, table, columns, shift, copies)
        _scale_simulation(connection, source, target, copies)
        # snapshots describe the state after the newest event of all copies
        written["events_per_copy"] = event_count // copies
    finally:
        connection.close()
    return written


def _glob(landing: Path, table: str) -> str:
    return f"read_parquet('{landing}/{table}/*/*.parquet', hive_partitioning = true)"


def _max_id(connection, landing: Path, table: str, column: str) -> int:
    return connection.execute(
        f"select coalesce(max({column}), 0) from {_glob(landing, table)}"
    ).fetchone()[0]


def _replicate(connection, source, target, table, id_columns, shift, copies) -> int:
    columns = [
        d[0]
        for d in connection.execute(f"select * from {_glob(source, table)} limit 0").description
    ]
    shutil.rmtree(target / table)
    expressions = []
    for column in columns:
        if column in id_columns:
            expressions.append(f"{column} + copy_number * {shift[column]} as {column}")
        elif column == "patron_key":
            expressions.append(
                "case when copy_number = 0 or patron_key is null then patron_key "
                "else sha256(patron_key || ':' || copy_number) end as patron_key"
            )
        else:
            expressions.append(column)
    query = (
        f"select {', '.join(expressions)} from {_glob(source, table)} "
        f"cross join range({copies}) as copies(copy_number)"
    )
    connection.execute(
        f"copy ({query}) to '{target / table}' (format parquet, compression zstd, "
        f"partition_by (date), filename_pattern 'replica-{{i}}', row_group_size 122880)"
    )
    return connection.execute(f"select count(*) from {_glob(target, table)}").fetchone()[0]


def _scale_simulation(connection, source, target, copies) -> None:
    table = "simulation_run"
    if not (source / table).exists():
        return
    columns = [
        d[0]
        for d in connection.execute(f"select * from {_glob(source, table)} limit 0").description
    ]
    expressions = [f"scale * {copies} as scale" if c == "scale" else c for c in columns]
    shutil.rmtree(target / table)
    connection.execute(
        f"copy (select {', '.join(expressions)} from {_glob(source, table)}) to "
        f"'{target / table}' "
        "(format parquet, partition_by (date), filename_pattern 'replica-{i}')"
    )
