"""Reading reference CSV files edited by people, with errors that name file, line and field.

Reference files are small and typed by hand, so they are read row by row with Python's csv
module: what matters here is not speed but telling the person who edited the file exactly
where the mistake is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.errors import ReferenceFileError

MUNICIPALITIES_FILE = "municipalities.csv"


def boolean(raw: str) -> bool:
    if raw.lower() in ("true", "yes", "1"):
        return True
    if raw.lower() in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


def integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None


def number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("expected a number") from None


def iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError("expected a date YYYY-MM-DD") from None


def year(raw: str) -> int:
    value = integer(raw)
    if not 1900 <= value <= 2100:
        raise ValueError("expected a year between 1900 and 2100")
    return value


def non_negative(raw: str) -> int:
    value = integer(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


class CsvFile:
    """One reference CSV: its rows with their line numbers, and checked field access."""

    def __init__(self, path: Path, required_columns: Iterable[str]):
        self.path = path
        if not path.exists():
            raise ReferenceFileError(str(path), None, None, "reference file is missing")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in required_columns if c not in columns]
            if missing:
                raise ReferenceFileError(
                    str(path), 1, missing[0], f"column is missing (header: {', '.join(columns)})"
                )
            # The header is line 1; csv counts physical lines, so quoted newlines stay right.
            self.rows: list[tuple[int, dict[str, str]]] = []
            for row in reader:
                if None in row:
                    raise ReferenceFileError(
                        str(path), reader.line_num, None, "more fields than the header has"
                    )
                if any((value or "").strip() for value in row.values()):
                    self.rows.append((reader.line_num, row))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def error(self, line: int | None, field: str | None, problem: str) -> ReferenceFileError:
        return ReferenceFileError(str(self.path), line, field, problem)

    def field(
        self,
        line: int,
        row: dict[str, str],
        name: str,
        convert: Callable[[str], Any] = str,
        *,
        optional: bool = False,
    ) -> Any:
        raw = (row.get(name) or "").strip()
        if raw == "":
            if optional:
                return None
            raise self.error(line, name, "is empty")
        try:
            return convert(raw)
        except ValueError as problem:
            raise self.error(line, name, f"{raw!r}: {problem}") from None

    def municipality(
        self, line: int, row: dict[str, str], name: str, known: dict[str, str], *, optional=False
    ) -> str | None:
        code = self.field(line, row, name, optional=optional)
        if code is not None and code not in known:
            raise self.error(line, name, f"unknown municipality {code!r}")
        return code

    def unique(self, keys: dict[tuple, int], key: tuple, line: int, names: str) -> None:
        """Record a row's key; a second row with the same key is an error naming both."""
        if key in keys:
            raise self.error(line, names, f"duplicate row: {key!r} already on line {keys[key]}")
        keys[key] = line


def known_municipalities(reference_dir: Path) -> dict[str, str]:
    """Municipality codes and names of the county, from the people-edited list."""
    source = CsvFile(
        reference_dir / MUNICIPALITIES_FILE, ["municipality_code", "municipality_name"]
    )
    known: dict[str, str] = {}
    seen: dict[tuple, int] = {}
    for line, row in source:
        code = source.field(line, row, "municipality_code")
        source.unique(seen, (code,), line, "municipality_code")
        known[code] = source.field(line, row, "municipality_name")
    return known


def sources(reference_dir: Path) -> dict[str, str]:
    """Source notes of reference files that have no source column of their own."""
    source = CsvFile(reference_dir / "sources.csv", ["file", "source"])
    notes: dict[str, str] = {}
    seen: dict[tuple, int] = {}
    for line, row in source:
        name = source.field(line, row, "file")
        source.unique(seen, (name,), line, "file")
        notes[name] = source.field(line, row, "source")
    return notes
