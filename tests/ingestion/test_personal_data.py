"""No personal data in any landed file: not the personal columns, not the actual names,
e-mail addresses, phone numbers, card numbers or birth dates of the test database's
patrons, not even in quarantine or the run log. The scan first proves that it works by
catching a canary planted in a landed file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingestion import contract, ingest
from ingestion.contract import TABLES
from ingestion.errors import PersonalColumnRead
from ingestion.validation import check_selection
from privacy.rules import PATRON_NAME, PERSONAL_COLUMNS, Handling, handling, is_personal
from tests.ingestion.conftest import History, append_events

# Tables about patrons, where a `name` column would be a person's name.
PATRON_TABLES = {name for name, table in TABLES.items() if table.about_patrons}


def scan_landing(root: Path, personal_values: list[str]) -> list[str]:
    """Every place under root where a personal column or value appears."""
    findings = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = path.relative_to(root)
        raw = path.read_bytes()
        findings += [f"{where}: bytes contain {v!r}" for v in personal_values if v.encode() in raw]
        if path.suffix != ".parquet":
            continue
        table = pq.read_table(path)
        for column in table.column_names:
            if is_personal(column) or (column == PATRON_NAME and PATRON_TABLES & set(where.parts)):
                findings.append(f"{where}: personal column {column!r}")
            texts = pc.cast(table[column], pa.string()).drop_null().unique().to_pylist()
            findings += [
                f"{where}: column {column!r} holds {value!r}"
                for value in personal_values
                for text in texts
                if value in text
            ]
    return findings


def test_no_personal_data_lands_anywhere(settings, engine, history: History):
    someone = history.patrons[0]
    # A feed row that carries personal data in `details` against the rules: it must be
    # quarantined without the data.
    append_events(
        engine,
        [
            {
                "type": "checkin",
                "branch_code": "NORA",
                "item_id": 1,
                "loan_id": 1,
                "details": {"name": someone.name, "email": someone.email},
            }
        ],
    )
    outcome = ingest(settings)
    assert outcome.ok and outcome.rows_quarantined == 1
    values = [value for patron in history.patrons for value in patron.personal_values()]
    root = settings.landing_path

    # The scan catches a canary: a patron's e-mail planted in a landed file on purpose.
    title_file = next((root / "title").rglob("*.parquet"))
    canary = title_file.with_name("canary.parquet")
    pq.write_table(pa.table({"author": [someone.email]}), canary)
    assert scan_landing(root, values) == [
        f"{canary.relative_to(root)}: bytes contain {someone.email!r}",
        f"{canary.relative_to(root)}: column 'author' holds {someone.email!r}",
    ]
    canary.unlink()

    assert scan_landing(root, values) == []
    patrons = pq.read_table(next((root / "patron").rglob("*.parquet"))).to_pylist()
    assert len(patrons) == len(history.patrons)
    assert {len(row["patron_key"]) for row in patrons} == {64}
    assert sorted(row["age_band"] for row in patrons) == ["0-15", "25-44", "65+"]


def test_every_personal_column_of_the_lending_core_is_on_the_list():
    """The one list (privacy/rules.py) covers what the lending core actually holds about a
    person, under the names ingestion would read it by."""
    from operational.adapters import tables

    held = {
        "patron_id" if column.name == "id" else column.name
        for column in tables.patron.columns
        if column.name not in NOT_PERSONAL_PATRON_COLUMNS
    } | {tables.patron_pin.c.pin_hash.name}
    assert held == {"patron_id", "card_number", "name", "email", "phone", "birth_date", "pin_hash"}
    assert [name for name in held if not is_personal(name) and name != PATRON_NAME] == []
    assert all(personal.reason for personal in PERSONAL_COLUMNS)
    assert {handling(c) for c in ("patron_id", "birth_date", "email", "branch_code")} == {
        Handling.PSEUDONYMISED,
        Handling.GENERALISED,
        Handling.NEVER_READ,
        None,
    }


# The patron table's columns that say nothing about who the person is.
NOT_PERSONAL_PATRON_COLUMNS = {
    "home_municipality_code",
    "home_branch_code",
    "category",
    "registered_at",
}


def test_ingestion_refuses_to_read_a_personal_column():
    """Only the columns ingestion turns into patron_key and age_band may be read at all."""
    with pytest.raises(PersonalColumnRead, match="card_number"):
        check_selection(contract.PATRON, ["patron_id", "card_number"])
    with pytest.raises(PersonalColumnRead, match="name"):
        check_selection(contract.PATRON, ["patron_id", "name"])
    check_selection(contract.BRANCH, ["code", "name"])  # a branch's name is no person's
    check_selection(contract.PATRON, ["patron_id", "birth_date", "category"])
