"""Row-for-row comparison of the warehouse built on DuckDB with the one built on Spark.

The Spark target writes plain Parquet tables under `<spark dir>/warehouse/<schema>.db/`
(partitioned facts as Hive `column=value` folders). DuckDB reads those files directly, so
both sides are compared by one engine-neutral reader and no second JVM is needed.

Two tables are equal when they have the same columns (by name) and the same rows as a
multiset: rows are put in one order by every column (floats rounded for the ordering
only), then compared pairwise; floating-point values may differ by a relative 1e-9 (sums
in another order) or an absolute 1e-6 (a value rounded to 6 decimals that landed on the
other side of a rounding boundary), every other value must be identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

REL_TOL = 1e-9
ABS_TOL = 1.0000001e-6


@dataclass
class TableComparison:
    table: str
    duckdb_rows: int
    spark_rows: int
    problems: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.problems


def spark_table_files(warehouse_dir: Path, schema: str, table: str) -> str | None:
    """The glob of a Spark table's data files, or None when the table has no folder."""
    folder = warehouse_dir / f"{schema}.db" / table
    if not folder.is_dir():
        return None
    partitioned = any(p.is_dir() and "=" in p.name for p in folder.iterdir())
    return str(folder / ("*/*.parquet" if partitioned else "*.parquet"))


def duckdb_tables(connection: duckdb.DuckDBPyConnection, schema: str = "main") -> list[str]:
    rows = connection.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "order by table_name",
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _normalise(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - (value.utcoffset() or datetime.min - datetime.min)
    return value


def _sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if value is None:
            key.append((0, 0))
        elif isinstance(value, float):
            key.append((1, round(value, 4) if math.isfinite(value) else str(value)))
        elif isinstance(value, bool | int):
            key.append((1, float(value)))
        elif isinstance(value, date | datetime):
            key.append((2, value.isoformat()))
        else:
            key.append((3, str(value)))
    return tuple(key)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            return False
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def compare_table(
    duck: duckdb.DuckDBPyConnection, schema: str, table: str, spark_files: str | None
) -> TableComparison:
    duck_rows_sql = f'select * from "{schema}"."{table}"'
    columns = [d[0] for d in duck.execute(f"{duck_rows_sql} limit 0").description]
    duck_rows = [
        tuple(_normalise(v) for v in row) for row in duck.execute(duck_rows_sql).fetchall()
    ]
    if spark_files is None:
        return TableComparison(table, len(duck_rows), 0, ["no table in the Spark warehouse"])
    spark_relation = f"read_parquet('{spark_files}', hive_partitioning = true)"
    spark_columns = [
        d[0] for d in duck.execute(f"select * from {spark_relation} limit 0").description
    ]
    result = TableComparison(table, len(duck_rows), 0)
    if sorted(spark_columns) != sorted(columns):
        result.problems.append(
            f"columns differ: only on DuckDB {sorted(set(columns) - set(spark_columns))}, "
            f"only on Spark {sorted(set(spark_columns) - set(columns))}"
        )
        return result
    selected = ", ".join(f'"{c}"' for c in columns)
    spark_rows = [
        tuple(_normalise(v) for v in row)
        for row in duck.execute(f"select {selected} from {spark_relation}").fetchall()
    ]
    result.spark_rows = len(spark_rows)
    if len(spark_rows) != len(duck_rows):
        result.problems.append(f"{len(duck_rows)} rows on DuckDB, {len(spark_rows)} on Spark")
    duck_rows.sort(key=_sort_key)
    spark_rows.sort(key=_sort_key)
    for number, (d_row, s_row) in enumerate(zip(duck_rows, spark_rows, strict=False)):
        differing = [
            f"{column}: duckdb={d!r} spark={s!r}"
            for column, d, s in zip(columns, d_row, s_row, strict=True)
            if not _same(d, s)
        ]
        if differing:
            result.problems.append(f"row {number} (in sorted order): " + "; ".join(differing))
            if len(result.problems) >= 5:
                result.problems.append("(further differences not listed)")
                break
    return result


def compare_warehouses(
    duckdb_path: Path, spark_warehouse_dir: Path, schema: str = "main"
) -> list[TableComparison]:
    """Every table of the DuckDB warehouse's `schema` against its Spark counterpart."""
    with duckdb.connect(str(duckdb_path), read_only=True) as duck:
        duck.execute("set TimeZone = 'UTC'")
        return [
            compare_table(
                duck, schema, table, spark_table_files(spark_warehouse_dir, schema, table)
            )
            for table in duckdb_tables(duck, schema)
        ]
