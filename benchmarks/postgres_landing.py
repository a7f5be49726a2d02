"""Copy the landing's Parquet into a PostgreSQL database, where dbt-postgres reads it.

PostgreSQL cannot read Parquet files itself, so a user who picks PostgreSQL as the
warehouse has one more step than on DuckDB or Spark: load the landed tables. Each source
table of the dbt project (`lending_core`, `reference`, `quarantine`, see
`dbt_project/models/staging/*/_*__sources.yml`) becomes a table of the same name in a
schema named after its source, the Hive `date` partition a column, read with the same
expressions as dbt-duckdb's `external_location`. The copy goes through DuckDB's postgres
extension (binary COPY), loaded from the `duckdb-extension-postgres-scanner` wheel so that
nothing is downloaded.
"""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import duckdb_extension_postgres_scanner

from ingestion import contract


def _extension() -> str:
    folder = Path(duckdb_extension_postgres_scanner.__file__).parent / "extensions"
    [path] = glob.glob(str(folder / f"v{duckdb.__version__}" / "*.duckdb_extension"))
    return path


def source_tables(landing: Path) -> list[tuple[str, str, str]]:
    """(schema, table, DuckDB expression reading it) for every dbt source table."""
    tables = []
    for table in (*contract.EVENT_TABLES, *contract.SNAPSHOT_TABLES):
        tables.append(
            (
                "lending_core",
                table.name,
                f"read_parquet('{landing}/{table.name}/*/*.parquet', hive_partitioning = true)",
            )
        )
        if table.name != "snapshot_manifest":
            tables.append(
                (
                    "quarantine",
                    table.name,
                    f"read_parquet('{landing}/_quarantine/{table.name}/*.parquet', "
                    "union_by_name = true)",
                )
            )
    for table in contract.REFERENCE_TABLES:
        tables.append(
            ("reference", table.name, f"read_parquet('{landing}/{table.name}/reference.parquet')")
        )
    return tables


def load_landing(landing: Path, libpq_dsn: str) -> int:
    """Replace the source tables in the PostgreSQL database of `libpq_dsn` with the landing's
    contents; returns the number of rows copied."""
    connection = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        connection.execute(f"load '{_extension()}'")
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"attach '{libpq_dsn}' as pg (type postgres)")
        rows = 0
        for schema in ("lending_core", "reference", "quarantine"):
            connection.execute(
                f"call postgres_execute('pg', 'drop schema if exists {schema} cascade')"
            )
            connection.execute(f"call postgres_execute('pg', 'create schema {schema}')")
        for schema, table, expression in source_tables(landing):
            connection.execute(f"create table pg.{schema}.{table} as select * from {expression}")
            rows += connection.execute(f"select count(*) from pg.{schema}.{table}").fetchone()[0]
        connection.execute("call postgres_execute('pg', 'analyze')")
        return rows
    finally:
        connection.close()
