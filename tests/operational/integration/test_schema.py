"""Database creation: migrations match the tables, identity, reference data loading."""

from __future__ import annotations

import shutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from operational.adapters import schema, search_index, tables
from operational.adapters.database import create_database_engine
from operational.adapters.feed import database_id
from operational.adapters.reference_data import ReferenceDataError
from tests.conftest import REFERENCE_DIR


def test_migrations_create_exactly_the_declared_schema(engine):
    with engine.connect() as connection:
        # The full-text index is made by its own DDL, not by the metadata (search_index.py).
        context = MigrationContext.configure(
            connection, opts={"include_object": search_index.include_object}
        )
        assert compare_metadata(context, tables.metadata) == []


def test_init_is_repeatable_and_keeps_the_identity(engine):
    with engine.connect() as c:
        first = database_id(c)
    schema.init(engine, REFERENCE_DIR)
    with engine.connect() as c:
        assert database_id(c) == first
        assert c.execute(select(func.count()).select_from(tables.membership)).scalar_one() == 9
        assert c.execute(select(func.count()).select_from(tables.branch)).scalar_one() == 24


def test_a_rebuilt_database_gets_a_new_identity(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first, _ = schema.init(engine, REFERENCE_DIR)
    schema.drop_all(engine)
    second, _ = schema.init(engine, REFERENCE_DIR)
    assert first != second


def test_every_member_has_a_main_library_and_the_hub_is_oerebro(engine):
    with engine.connect() as c:
        branches = c.execute(select(tables.branch)).all()
        members = c.execute(select(tables.membership.c.municipality_code)).scalars().all()
    mains = {b.municipality_code for b in branches if b.kind == "main"}
    assert set(members) <= mains
    assert [(b.code, b.municipality_code) for b in branches if b.kind == "hub"] == [
        ("OREB-HUB", "1880")
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "branches.csv",
            "NORA,Nora bibliotek,1884",
            "NORA,Nora bibliotek,9999",
            r"branches.csv:2: field 'municipality_code': unknown municipality '9999'",
        ),
        (
            "municipalities.csv",
            "1884,Nora,18,2016-01-01",
            "1884,Nora,18,2016-13-01",
            r"municipalities.csv:2: field 'consortium_joined_on'",
        ),
        (
            "collections.csv",
            "adult-fiction,Skönlitteratur för vuxna,false",
            "adult-fiction,Skönlitteratur för vuxna,maybe",
            r"collections.csv:2: field 'floats' = 'maybe'",
        ),
        (
            "circulation_rules.csv",
            "media_type,",
            "kind,",
            r"circulation_rules.csv:1: missing column\(s\) media_type",
        ),
    ],
)
def test_malformed_reference_file_names_file_line_and_field(tmp_path, file, old, new, message):
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    path = reference / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    engine = create_database_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with pytest.raises(ReferenceDataError, match=message):
        schema.init(engine, reference)
