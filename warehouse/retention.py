"""The warehouse side of the retention rule for patron keys (ingestion/retention.py says
the rule; this is the port it calls, wired to it by `bibbla ingest retention` in
bibbla/cli.py and by the pipeline's retention asset)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from bibbla.config import Settings
from warehouse.build import (
    Log,
    WarehouseBuildError,
    build_warehouse,
    landed_database_id,
    log_to_stderr,
    run_dbt,
    warehouse_database_id,
)

# The facts that keep a patron key, and the date a key's retention is counted from.
FACT_KEY_DATES = {"fct_loans": "checkout_date", "fct_holds": "placed_date"}
RETENTION_SCHEMA = "retention"
RETENTION_SELECTOR = "tag:retention"


class DbtRetentionWarehouse:
    """The warehouse side of the retention rule for patron keys (ingestion/retention.py):
    dbt freezes what the keys before the cutoff count into the `retention` schema
    (dbt_project/models/retention/) and checks it, and rebuilds the warehouse once the
    landing has lost them."""

    def __init__(
        self,
        settings: Settings,
        *,
        log: Log = log_to_stderr,
        target_path: Path | None = None,
        log_path: Path | None = None,
    ):
        self.settings = settings
        self.log = log
        self.target_path = target_path
        self.log_path = log_path

    @property
    def path(self) -> Path:
        return self.settings.warehouse_path

    def _query(self, sql: str, parameters: list | None = None) -> list[tuple] | None:
        if not self.path.is_file():
            return None
        try:
            with duckdb.connect(str(self.path), read_only=True) as connection:
                return connection.execute(sql, parameters or []).fetchall()
        except duckdb.CatalogException:  # the table is not built (yet)
            return None
        except duckdb.IOException as error:  # e.g. a build holds the file
            raise WarehouseBuildError(
                f"cannot read the warehouse {self.path}: {error}; try again when the build "
                "that holds it has finished"
            ) from error

    def exists(self) -> bool:
        return self._query("select count(*) from main.fct_loans") is not None

    def keyed_rows_before(self, cutoff: date) -> dict[str, int]:
        counts = {}
        for fact, column in FACT_KEY_DATES.items():
            rows = self._query(
                f"select count(*) from main.{fact} where {column} < ? and patron_key is not null",
                [cutoff],
            )
            counts[fact] = int(rows[0][0]) if rows else 0
        return counts

    def retained_rows(self) -> dict[str, int]:
        """Rows of each table of the retention schema (none before the first build)."""
        tables = self._query(
            "select table_name from information_schema.tables where table_schema = ?",
            [RETENTION_SCHEMA],
        )
        counts = {}
        for (table,) in tables or []:
            rows = self._query(f'select count(*) from "{RETENTION_SCHEMA}"."{table}"')
            counts[table] = int(rows[0][0]) if rows else 0
        return counts

    def _dbt(self, arguments: list[str]) -> None:
        run_dbt(
            arguments,
            self.settings,
            log=self.log,
            target_path=self.target_path,
            log_path=self.log_path,
        )

    def freeze(self, cutoff: date) -> dict[str, int]:
        """`dbt run` of the retention models and everything upstream of them with the
        cutoff (so they freeze from the landing as it is, keys and all), then their tests,
        which fail if anything dated before the cutoff was not frozen; returns the rows
        appended per model."""
        built_from = warehouse_database_id(self.path)
        landed = landed_database_id(self.settings.landing_path)
        if built_from is not None and landed is not None and built_from != landed:
            raise WarehouseBuildError(
                f"the warehouse was built from lending-core database {built_from}, the landing "
                f"holds {landed}: run `bibbla warehouse build` first"
            )
        before = self.retained_rows()
        variables = json.dumps({"retention_cutoff": cutoff.isoformat()})
        self._dbt(["run", "--select", f"+{RETENTION_SELECTOR}", "--vars", variables])
        self._dbt(["test", "--select", RETENTION_SELECTOR, "--vars", variables])
        after = self.retained_rows()
        return {table: rows - before.get(table, 0) for table, rows in sorted(after.items())}

    def rebuild(self) -> None:
        # the retention rule has rewritten landed partitions, old ones included: the nightly
        # test window's premise (a landed partition never changes) does not hold, so every
        # snapshot is tested again
        build_warehouse(
            self.settings,
            log=self.log,
            target_path=self.target_path,
            log_path=self.log_path,
            test_window=False,
        )
