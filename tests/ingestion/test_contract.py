"""The landing contract holds: LANDING.md documents exactly the contract, and what lands
reads back in DuckDB with the documented types and partitions."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion import contract, ingest
from ingestion.landing_doc import LANDING_DOC
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.clock import SimulatedClock
from tests.conftest import REFERENCE_DIR, create_postgres_database, local
from tests.ingestion.conftest import make_history, make_settings
from tests.operational.desk import Desk

DUCKDB_TYPES = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE (UTC, µs)": "TIMESTAMP WITH TIME ZONE",
}


def test_landing_md_documents_exactly_the_contract():
    assert contract.landing_doc_section() in LANDING_DOC.read_text(encoding="utf-8"), (
        "LANDING.md is out of date: run `.venv/bin/python -m ingestion.landing_doc`"
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def full_landing(request, tmp_path_factory):
    """One full ingestion per backend, shared by this module's read-only tests."""
    folder = tmp_path_factory.mktemp(f"landing-{request.param}")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'operational.sqlite'}"
    else:
        url, drop = create_postgres_database(request.getfixturevalue("postgres_admin_url"))
    engine = create_database_engine(url)
    try:
        schema.init(engine, REFERENCE_DIR)
        make_history(Desk(engine, SimulatedClock(local(2025, 6, 2, 10))))
        settings = make_settings(folder, url)
        outcome = ingest(settings)
        assert outcome.ok, outcome.errors
        yield settings.landing_path
    finally:
        engine.dispose()
        if drop:
            drop()


@pytest.mark.parametrize("table", contract.ALL_TABLES, ids=lambda table: table.name)
def test_every_table_reads_back_in_duckdb_with_its_documented_types(full_landing, table):
    partitioned = table.kind != "reference"
    pattern = f"{full_landing}/{table.name}/{'*/' if partitioned else ''}*.parquet"
    described = duckdb.sql(
        f"describe select * from read_parquet('{pattern}', hive_partitioning = true)"
    ).fetchall()
    types = {name: kind for name, kind, *_ in described}

    expected = {c.name: DUCKDB_TYPES[contract._type_name(c.dtype)] for c in table.columns}
    if partitioned:
        expected["date"] = "DATE"
    assert types == expected


def test_timestamps_are_utc_microseconds_in_the_parquet_files(full_landing):
    path = next((full_landing / "circulation_event").rglob("*.parquet"))
    schema = pq.read_schema(path)
    assert schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize(
    "table",
    [t for t in contract.EVENT_TABLES + contract.SNAPSHOT_TABLES if t.name != "snapshot_manifest"],
    ids=lambda table: table.name,
)
def test_every_quarantine_can_be_read_even_when_empty(full_landing, table):
    pattern = f"{full_landing}/_quarantine/{table.name}/*.parquet"
    rows = duckdb.sql(
        f"select count(*) from read_parquet('{pattern}', union_by_name = true)"
    ).fetchone()
    assert rows == (0,)
    columns = [name for name, *_ in duckdb.sql(f"describe select * from '{pattern}'").fetchall()]
    assert columns == contract.quarantine_table(table).column_names
