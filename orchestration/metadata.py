"""Metadata helpers: previews, column schemas and summaries shown on assets in the UI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from ingestion.contract import Table

PREVIEW_ROWS = 5
CELL_CHARACTERS = 24


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= CELL_CHARACTERS else text[: CELL_CHARACTERS - 1] + "…"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """The first rows of a frame as a Markdown table (long values shortened, so a
    pseudonym shows only its start)."""
    head = frame.head(rows)
    return dg.MetadataValue.md(markdown_table(head.columns, head.rows()))


def preview_file(path: Path | None, rows: int = PREVIEW_ROWS, last: bool = False):
    """A preview of a Parquet file, or None when there is no file."""
    if path is None or not path.exists():
        return None
    frame = pl.read_parquet(path, hive_partitioning=False)
    return preview(frame.tail(rows) if last else frame, rows)


def column_schema(table: Table) -> dg.TableSchema:
    """The landing contract's columns of a table, for the asset's column view."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=column.name, type=str(column.dtype), description=column.description)
            for column in table.columns
        ]
    )


def parquet_rows(pattern: str) -> int:
    """Rows in every Parquet file matching a glob (from the file footers; no data read)."""
    try:
        return int(
            pl.scan_parquet(pattern, hive_partitioning=False, missing_columns="insert")
            .select(pl.len())
            .collect()
            .item()
        )
    except (FileNotFoundError, pl.exceptions.ComputeError):
        return 0
