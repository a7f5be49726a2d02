"""Reading what the checks validate: DuckDB over the landing Parquet and the warehouse.

One in-memory DuckDB connection per check reads the landing files directly (the layout of
ingestion/LANDING.md) and attaches the warehouse read-only under the name `warehouse`;
queries return pandas frames (`con.sql(query).df()`), which GX validates.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl

from bibbla.config import Settings
from ingestion.contract import TABLES, UTC_TIMESTAMP

_DUCKDB_TYPES = {
    pl.String(): "VARCHAR",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE",
    pl.Boolean(): "BOOLEAN",
    pl.Date(): "DATE",
    UTC_TIMESTAMP: "TIMESTAMPTZ",
}


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class Reader:
    """A read-only view of the landing (and, with `warehouse=True`, the warehouse)."""

    def __init__(self, settings: Settings, *, warehouse: bool = False):
        self.settings = settings
        self.root = settings.landing_path
        self.connection = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
        self.connection.execute("SET TimeZone = 'UTC'")
        if warehouse:
            path = settings.warehouse_path
            if not path.exists():
                raise FileNotFoundError(f"no warehouse at {path}: the dbt step has not run")
            self.connection.execute(f"ATTACH {_quote(path)} AS warehouse (READ_ONLY)")

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc) -> None:
        self.connection.close()

    def df(self, sql: str) -> pd.DataFrame:
        return self.connection.sql(sql).df()

    def scalar(self, sql: str):
        row = self.connection.sql(sql).fetchone()
        return None if row is None else row[0]

    # -- the landing

    @staticmethod
    def _files(folder: Path, pattern: str) -> list[Path]:
        return sorted(folder.glob(pattern)) if folder.exists() else []

    def _empty(self, table: str, extra: dict[str, str] | None = None) -> str:
        columns = [
            f"cast(null as {_DUCKDB_TYPES[column.dtype]}) as {column.name}"
            for column in TABLES[table].columns
        ]
        columns += [f"cast(null as {kind}) as {name}" for name, kind in (extra or {}).items()]
        return f"(select {', '.join(columns)} where false)"

    def has_files(self, table: str) -> bool:
        folder = self.root / table
        pattern = "reference.parquet" if TABLES[table].kind == "reference" else "date=*/*.parquet"
        return bool(self._files(folder, pattern))

    def table(self, table: str) -> str:
        """Every landed row of a table (with `date` for partitioned tables)."""
        kind = TABLES[table].kind
        if kind == "reference":
            path = self.root / table / "reference.parquet"
            return f"read_parquet({_quote(path)})" if path.exists() else self._empty(table)
        if not self.has_files(table):
            return self._empty(table, {"date": "DATE"})
        glob = self.root / table / "date=*" / "*.parquet"
        return (
            f"read_parquet({_quote(glob)}, hive_partitioning = true, union_by_name = true, "
            "hive_types = {'date': 'date'})"
        )

    def latest_date(self, table: str) -> str | None:
        """The newest `date=` partition of a table (from the folder names: DuckDB 1.5.5
        fails on `max(date)` over a Hive partition column, an internal error)."""
        folders = [path for path in self._files(self.root / table, "date=*") if path.is_dir()]
        return max(path.name.removeprefix("date=") for path in folders) if folders else None

    def current(self, table: str) -> str:
        """The rows a reader of the landing takes as current: the newest snapshot of the
        manifest, the current versions of a history table (per key its newest landed row,
        unless that is a deletion), every row of an event or reference table. `date` is
        the as-of date the row was landed on."""
        contract = TABLES[table]
        if contract.kind != "snapshot":
            return self.table(table)
        if contract.is_history:
            if not self.has_files(table):
                return self._empty(table, {"date": "DATE"})
            key = ", ".join(contract.key)
            present = " and ".join(f"{column} is not null" for column in contract.key)
            return (
                f"(select * exclude (newest) from (select *, row_number() over "
                f"(partition by {key} order by date desc) = 1 as newest "
                f"from {self.table(table)} where {present}) "
                "where newest and change <> 'deleted')"
            )
        newest = self.latest_date(table)
        if newest is None:
            return self._empty(table, {"date": "DATE"})
        folder = self.root / table / f"date={newest}"
        return (
            f"(select *, DATE '{newest}' as date from "
            f"read_parquet({_quote(folder / '*.parquet')}, union_by_name = true))"
        )

    def event_files(self, *, quarantine: bool = False) -> str | None:
        """Every landed (or quarantined) event row with the file it is in, or None."""
        if quarantine:
            folder = self.root / "_quarantine" / "circulation_event"
            pattern = "part-*.parquet"
        else:
            folder = self.root / "circulation_event"
            pattern = "date=*/part-*.parquet"
        if not self._files(folder, pattern):
            return None
        return (
            f"read_parquet({_quote(folder / pattern)}, hive_partitioning = false, "
            "filename = true, file_row_number = true, union_by_name = true)"
        )

    def quarantine(self, table: str) -> str | None:
        folder = self.root / "_quarantine" / table
        if not self._files(folder, "*.parquet"):
            return None
        return f"read_parquet({_quote(folder / '*.parquet')}, union_by_name = true)"

    def landed_columns(self, table: str) -> list[str]:
        """The columns of every landed file of a table (the union of their schemas)."""
        if TABLES[table].kind == "reference":
            path = self.root / table / "reference.parquet"
            files = [path] if path.exists() else []
        else:
            files = self._files(self.root / table, "date=*/*.parquet")
        columns: list[str] = []
        for path in files:
            for name in pl.read_parquet_schema(path):
                if name not in columns:
                    columns.append(name)
        return columns

    # -- the warehouse

    def columns_of(self, relation: str) -> list[str]:
        return [
            row[0] for row in self.connection.sql(f"describe select * from {relation}").fetchall()
        ]
