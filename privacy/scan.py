"""A privacy scan: no personal data past the lending core.

Reads the actual personal values of the lending core's patrons (names, e-mail addresses,
phone numbers, card numbers, the hashes of their PINs) and looks for them — and for columns
named like personal fields — in every file of the landing, the warehouse and the built report site.
Data files are decoded before they are searched (Parquet and Arrow cell by cell, DuckDB
table by table), since their compressed bytes would hide a value from a plain search.

    bibbla privacy scan            # exit status 1 when anything personal is found
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from privacy.rules import is_personal

_TOKEN = re.compile(r"[^\s\"'<>(){}\[\],;=|\\]+")
# A token of how Python writes a number, a truth value, a date or a date and time: a needle
# made of nothing else is the only kind such a value could contain.
_NON_TEXT_TOKEN = re.compile(
    r"[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|inf|nan)|True|False|\d{4}-\d{2}-\d{2}"
    r"|\d{2}:\d{2}:\d{2}(\.\d+)?([-+]\d{2}:\d{2})?"
)
_NON_TEXT_TYPES = (bool, int, float, decimal.Decimal, datetime.date, datetime.time)


@dataclass(frozen=True)
class Finding:
    """A personal value (or a personal column) found in a file."""

    path: Path
    kind: str  # "name", "email", … or "column"
    value: str
    where: str  # "text", "bytes", "column <name>", "table <t>.<column>", "schema"


def personal_values(operational_db_url: str) -> dict[str, set[str]]:
    """Every personal value of the lending core's patrons, by kind. Birth dates are not
    among them: as values they are indistinguishable from the many dates the warehouse
    rightly holds; a `birth_date` column is what the scan looks for instead."""
    from sqlalchemy import create_engine, inspect, select

    from operational.adapters.tables import patron, patron_pin

    values: dict[str, set[str]] = {
        k: set() for k in ("name", "email", "phone", "card_number", "birth_date", "pin_hash")
    }
    engine = create_engine(operational_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    patron.c.name,
                    patron.c.email,
                    patron.c.phone,
                    patron.c.card_number,
                )
            )
            for name, email, phone, card in rows:
                for kind, value in (
                    ("name", name),
                    ("email", email),
                    ("phone", phone),
                    ("card_number", card),
                ):
                    if value:
                        values[kind].add(str(value))
            # PIN hashes (the visitors' web, migration 0004): a credential, never landed.
            if inspect(connection).has_table("patron_pin"):
                values["pin_hash"].update(
                    connection.execute(select(patron_pin.c.pin_hash)).scalars()
                )
    finally:
        engine.dispose()
    return values


class Needles:
    """The values to look for, matched against whole cells and against each token (and
    each pair of adjacent tokens, for "First Last") of longer text: a set lookup, so the
    scan stays fast with tens of thousands of patrons."""

    def __init__(self, values: dict[str, set[str]]):
        self.kind_of = {value: kind for kind, found in values.items() for value in found}
        # Names, e-mail addresses, phone numbers ("072-6473840") and card numbers
        # ("1814-0000001") are never how Python writes a number or a date, so a scan need
        # not turn every id, count and timestamp into text, unless a needle could be one.
        self.could_be_non_text = any(
            all(_NON_TEXT_TOKEN.fullmatch(part) for part in value.split(" "))
            for value in self.kind_of
        )

    def may_hold(self, value: object) -> bool:
        """Whether `value` could contain a needle at all (text always could)."""
        return self.could_be_non_text or not isinstance(value, _NON_TEXT_TYPES)

    def __bool__(self) -> bool:
        return bool(self.kind_of)

    def in_bytes(self, data: bytes) -> Iterator[tuple[str, str]]:
        """Every needle whose UTF-8 bytes occur anywhere in `data` (a file that is not text:
        fonts, images, WebAssembly): one Aho-Corasick pass over the data for all needles at
        once, not one search per needle (56 000 searches of a 10 MB file took minutes)."""
        automaton = self._byte_automaton()
        if automaton is None:
            return
        found: set[str] = set()
        # latin-1 maps each byte to one character, so matching characters is matching bytes
        for _end, needle in automaton.iter(data.decode("latin-1")):
            if needle not in found:
                found.add(needle)
                yield self.kind_of[needle], needle

    def _byte_automaton(self):
        if not hasattr(self, "_automaton"):
            import ahocorasick

            automaton = None
            if self.kind_of:
                automaton = ahocorasick.Automaton()
                for needle in self.kind_of:
                    automaton.add_word(needle.encode("utf-8").decode("latin-1"), needle)
                automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def in_text(self, text: str) -> Iterator[tuple[str, str]]:
        if text in self.kind_of:
            yield self.kind_of[text], text
            return
        tokens = _TOKEN.findall(text)
        for index, token in enumerate(tokens):
            for candidate in (
                token,
                f"{token} {tokens[index + 1]}" if index + 1 < len(tokens) else None,
            ):
                if candidate is not None and candidate in self.kind_of:
                    yield self.kind_of[candidate], candidate


def table_cells(
    path: Path, text_only: bool = False
) -> tuple[list[str], Iterator[tuple[str, object]]] | None:
    """Column names and (column, value) cells of a Parquet or Arrow file: each distinct
    value of a column once, and with `text_only` none of the columns of numbers, truth
    values, dates and times."""
    import pyarrow
    import pyarrow.ipc
    import pyarrow.parquet

    if path.suffix == ".parquet":
        table = pyarrow.parquet.read_table(path)
    elif path.suffix == ".arrow":
        try:
            table = pyarrow.ipc.open_file(path).read_all()
        except pyarrow.ArrowInvalid:
            table = pyarrow.ipc.open_stream(path).read_all()
    else:
        return None
    import pyarrow.compute

    def distinct(column) -> list:
        # each distinct value once: a value is personal or not wherever it stands
        try:
            return pyarrow.compute.unique(column).to_pylist()
        except pyarrow.ArrowNotImplementedError:  # e.g. nested types
            return column.to_pylist()

    def non_text(column) -> bool:
        kind = column.type
        return (
            pyarrow.types.is_integer(kind)
            or pyarrow.types.is_floating(kind)
            or pyarrow.types.is_boolean(kind)
            or pyarrow.types.is_decimal(kind)
            or pyarrow.types.is_temporal(kind)
        )

    cells = (
        (name, value)
        for name, column in zip(table.column_names, table.columns, strict=True)
        if not (text_only and non_text(column))
        for value in distinct(column)
    )
    return table.column_names, cells


# DuckDB's types whose values are numbers, truth values, dates or times
_NON_TEXT_SQL_TYPES = re.compile(
    r"(U?(BIG|SMALL|TINY|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL|BOOLEAN|DATE|TIME|TIMESTAMP)"
    r"\b.*"
)


def _duckdb_cells(path: Path, text_only: bool = False) -> Iterator[tuple[str, str, object]]:
    """(table, column, value) of every distinct value of every column of every table and
    view of a DuckDB file, first (table, column, None) for each column; with `text_only`
    no values of the columns of numbers, truth values, dates and times."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as connection:
        relations = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table in relations:
            name = f'"{schema}"."{table}"'
            try:
                cursor = connection.execute(f"select * from {name} limit 0")
            except duckdb.Error:
                continue  # a view over files that are not here (e.g. the landing)
            columns = [d[0] for d in cursor.description]
            types = dict(
                connection.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
            )
            for column in columns:
                yield f"{schema}.{table}", column, None
                if text_only and _NON_TEXT_SQL_TYPES.fullmatch(types.get(column, "")):
                    continue
                # each distinct value once: a value is personal or not wherever it stands
                quoted = '"' + column.replace('"', '""') + '"'
                cursor = connection.execute(f"select distinct {quoted} from {name}")
                while rows := cursor.fetchmany(50_000):
                    for (value,) in rows:
                        yield f"{schema}.{table}", column, value


def scan(paths: Iterable[Path], needles: Needles, check_columns: bool = True) -> list[Finding]:
    """Every personal value (and, with check_columns, personal column) in the files under
    the given files or folders."""
    findings: set[Finding] = set()
    # Every text is looked at once, wherever else it stands: the landing's histories, the
    # daily copies kept aside by `bibbla ingest compact` and the warehouse repeat most
    # of their values from file to file.
    seen: dict[str, list[tuple[str, str]]] = {}

    def found_in(value: object) -> list[tuple[str, str]]:
        if not needles.may_hold(value):
            return []
        text = str(value)
        if text not in seen:
            seen[text] = list(needles.in_text(text))
        return seen[text]

    files = []
    for root in paths:
        files.extend(
            [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        )
    for path in files:
        if path.suffix == ".duckdb":
            for table, column, value in _duckdb_cells(path, not needles.could_be_non_text):
                if value is None:
                    if check_columns and is_personal(column):
                        findings.add(Finding(path, "column", column, f"table {table}"))
                    continue
                for kind, found in found_in(value):
                    findings.add(Finding(path, kind, found, f"table {table}.{column}"))
            continue
        decoded = table_cells(path, text_only=not needles.could_be_non_text)
        if decoded is not None:
            columns, cells = decoded
            if check_columns:
                findings.update(
                    Finding(path, "column", c, "schema") for c in columns if is_personal(c)
                )
            for column, value in cells:
                if value is not None:
                    for kind, found in found_in(value):
                        findings.add(Finding(path, kind, found, f"column {column}"))
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            findings.update(
                Finding(path, kind, found, "bytes") for kind, found in needles.in_bytes(data)
            )
            continue
        findings.update(Finding(path, kind, found, "text") for kind, found in needles.in_text(text))
    return sorted(findings, key=lambda f: (str(f.path), f.kind, f.value))


app = typer.Typer(
    help="Check that no personal data has left the lending core.", no_args_is_help=True
)


@app.command("scan")
def scan_command(
    landing: bool = typer.Option(True, help="Scan the landing (BIBBLA_LANDING)."),
    warehouse: bool = typer.Option(True, help="Scan the warehouse (BIBBLA_WAREHOUSE)."),
    site: bool = typer.Option(True, help="Scan the built report site (reports/build)."),
) -> None:
    """Look for the lending core's personal values in the landing, warehouse and site."""
    from bibbla.config import PROJECT_ROOT, get_settings

    console = Console(stderr=True)
    settings = get_settings()
    needles = Needles(personal_values(settings.operational_db_url))
    places = {
        "landing": (landing, settings.landing_path),
        "warehouse": (warehouse, settings.warehouse_path),
        "site": (site, PROJECT_ROOT / "reports" / "build"),
    }
    total = 0
    for name, (wanted, path) in places.items():
        if not wanted:
            continue
        if not path.exists():
            console.print(f"{name}: {path} does not exist; not scanned")
            continue
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        findings = scan([path], needles)
        total += len(findings)
        console.print(f"{name}: {len(files)} files scanned, {len(findings)} findings")
        for finding in findings[:50]:
            console.print(f"  {finding.path}: {finding.kind} {finding.value!r} ({finding.where})")
    console.print(f"{len(needles.kind_of)} personal values of the lending core looked for")
    if total:
        raise typer.Exit(code=1)
