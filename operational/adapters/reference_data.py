"""Loads the consortium's reference data (municipalities, membership timeline, branches,
van routes, collections, circulation rules) from the CSV files in the project's
`reference/` folder into a lending-core database. Re-running it updates, never duplicates.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from operational.adapters import tables
from operational.adapters.reference_cache import mark_changed


class ReferenceDataError(ValueError):
    """A reference file is malformed; the message names the file, line and field."""


def _rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        raise ReferenceDataError(f"{path}: reference file is missing")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceDataError(f"{path}:1: missing column(s) {', '.join(missing)}")
        return [(number, row) for number, row in enumerate(reader, start=2)]


def _field(path: Path, line: int, row: dict[str, str], name: str, convert=str, optional=False):
    raw = (row.get(name) or "").strip()
    if raw == "":
        if optional:
            return None
        raise ReferenceDataError(f"{path}:{line}: field '{name}' is empty")
    try:
        return convert(raw)
    except ValueError as error:
        raise ReferenceDataError(f"{path}:{line}: field '{name}' = {raw!r}: {error}") from None


def _bool(raw: str) -> bool:
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")


def _upsert(connection: Connection, table, rows: list[dict], keys: list[str]) -> None:
    if not rows:
        return
    dialect = connection.dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    statement = insert(table).values(rows)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))


# The libraries of the municipalities outside the consortium (Degerfors, Karlskoga, Örebro),
# for what-if scenarios: loaded only into a lending core whose membership timeline has the
# municipality join, so today's lending core holds exactly its members' libraries.
SCENARIO_BRANCHES = "scenario_branches.csv"
BRANCH_COLUMNS = ["branch_code", "branch_name", "municipality_code", "kind"]


def _branch_rows(reference_dir: Path, in_timeline: set[str]):
    """(path, line, row) of every branch to load: all of branches.csv, and the rows of
    scenario_branches.csv (when present) whose municipality is in the timeline."""
    path = reference_dir / "branches.csv"
    for line, row in _rows(path, BRANCH_COLUMNS):
        yield path, line, row
    path = reference_dir / SCENARIO_BRANCHES
    if path.exists():
        for line, row in _rows(path, BRANCH_COLUMNS):
            if (row.get("municipality_code") or "").strip() in in_timeline:
                yield path, line, row


def load_reference_data(
    connection: Connection, reference_dir: Path, municipalities_file: Path | None = None
) -> dict[str, int]:
    """Load or refresh every reference table; returns the row count loaded per table.

    municipalities_file replaces `municipalities.csv` (the membership timeline), e.g. for a
    counterfactual simulation in which the five never join, or a scenario in which the
    three outside municipalities join (their libraries come from scenario_branches.csv)."""
    counts: dict[str, int] = {}

    path = municipalities_file or reference_dir / "municipalities.csv"
    municipalities, memberships = [], []
    for line, row in _rows(path, ["municipality_code", "municipality_name", "county_code"]):
        code = _field(path, line, row, "municipality_code")
        municipalities.append(
            {
                "code": code,
                "name": _field(path, line, row, "municipality_name"),
                "county_code": _field(path, line, row, "county_code"),
            }
        )
        joined = _field(path, line, row, "consortium_joined_on", date.fromisoformat, True)
        if joined is not None:
            memberships.append(
                {
                    "municipality_code": code,
                    "joined_on": joined,
                    "left_on": _field(
                        path, line, row, "consortium_left_on", date.fromisoformat, True
                    ),
                    "note": row.get("join_note"),
                }
            )
    _upsert(connection, tables.municipality, municipalities, ["code"])
    # The membership timeline is replaced as a whole: the file is its source of truth.
    connection.execute(delete(tables.membership))
    if memberships:
        connection.execute(tables.membership.insert(), memberships)
    counts["municipality"], counts["membership"] = len(municipalities), len(memberships)
    known = {m["code"] for m in municipalities}

    def municipality_code(path: Path, line: int, row: dict, name: str) -> str:
        code = _field(path, line, row, name)
        if code not in known:
            raise ReferenceDataError(
                f"{path}:{line}: field '{name}': unknown municipality {code!r}"
            )
        return code

    branches = []
    for path, line, row in _branch_rows(
        reference_dir, {m["municipality_code"] for m in memberships}
    ):
        branches.append(
            {
                "code": _field(path, line, row, "branch_code"),
                "name": _field(path, line, row, "branch_name"),
                "municipality_code": municipality_code(path, line, row, "municipality_code"),
                "kind": _field(path, line, row, "kind"),
                "staffed_hours_per_week": _field(path, line, row, "staffed_hours_per_week", float),
                "staffless_hours_per_week": _field(
                    path, line, row, "staffless_hours_per_week", float
                ),
                "open_days": _field(path, line, row, "open_days"),
                "latitude": _field(path, line, row, "latitude", float, True),
                "longitude": _field(path, line, row, "longitude", float, True),
            }
        )
    _upsert(connection, tables.branch, branches, ["code"])
    counts["branch"] = len(branches)

    path = reference_dir / "van_routes.csv"
    routes = []
    for line, row in _rows(path, ["route", "municipality_a", "municipality_b", "weekdays"]):
        kind = _field(path, line, row, "route")
        pair = (None, None)
        if kind == "direct":
            pair = (
                municipality_code(path, line, row, "municipality_a"),
                municipality_code(path, line, row, "municipality_b"),
            )
        elif kind != "hub":
            raise ReferenceDataError(f"{path}:{line}: field 'route': expected hub or direct")
        routes.append(
            {
                "kind": kind,
                "municipality_a": pair[0],
                "municipality_b": pair[1],
                "weekdays": _field(path, line, row, "weekdays"),
            }
        )
    connection.execute(delete(tables.van_route))
    connection.execute(tables.van_route.insert(), routes)
    counts["van_route"] = len(routes)

    path = reference_dir / "collections.csv"
    collections = [
        {
            "code": _field(path, line, row, "collection_code"),
            "name": _field(path, line, row, "collection_name"),
            "floats": _field(path, line, row, "floats", _bool),
        }
        for line, row in _rows(path, ["collection_code", "collection_name", "floats"])
    ]
    _upsert(connection, tables.collection, collections, ["code"])
    counts["collection"] = len(collections)

    path = reference_dir / "circulation_rules.csv"
    rules = [
        {
            "media_type": _field(path, line, row, "media_type"),
            "patron_category": _field(path, line, row, "patron_category"),
            **{
                name: _field(path, line, row, name, int)
                for name in ("loan_days", "loan_days_when_queued", "max_renewals", "max_loans")
            },
        }
        for line, row in _rows(
            path,
            [
                "media_type",
                "patron_category",
                "loan_days",
                "loan_days_when_queued",
                "max_renewals",
                "max_loans",
            ],
        )
    ]
    _upsert(connection, tables.circulation_rule, rules, ["media_type", "patron_category"])
    counts["circulation_rule"] = len(rules)
    # Every API worker reads the reference data again on its next request.
    mark_changed(connection)
    return counts
