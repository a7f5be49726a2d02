"""The dbt sources declare exactly the landing contract's tables and columns
(ingestion/contract.py), so a change of the contract cannot slip past the warehouse."""

from __future__ import annotations

import yaml

from ingestion import contract
from warehouse.build import DBT_PROJECT_DIR

STAGING = DBT_PROJECT_DIR / "models" / "staging"


def declared(path: str) -> dict[str, list[str]]:
    document = yaml.safe_load((STAGING / path).read_text(encoding="utf-8"))
    [source] = document["sources"]
    return {
        table["name"]: [c["name"] for c in table.get("columns", [])] for table in source["tables"]
    }


def test_lending_core_sources_match_the_contract() -> None:
    expected = {t.name: t.column_names for t in (*contract.EVENT_TABLES, *contract.SNAPSHOT_TABLES)}
    assert declared("lending_core/_lending_core__sources.yml") == expected


def test_reference_sources_match_the_contract() -> None:
    expected = {t.name: t.column_names for t in contract.REFERENCE_TABLES}
    assert declared("reference/_reference__sources.yml") == expected


def test_every_quarantined_table_is_read() -> None:
    quarantined = set(declared("quarantine/_quarantine__sources.yml"))
    # snapshot_manifest is written by ingestion itself and has no quarantine
    landed = {t.name for t in (*contract.EVENT_TABLES, *contract.SNAPSHOT_TABLES)}
    assert quarantined == landed - {"snapshot_manifest"}
