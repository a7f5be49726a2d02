"""The report site's source queries (reports/sources/warehouse/*.sql) on a warehouse whose
optional marts are empty.

Evidence fails the whole site's build on a source without rows. Some marts are empty on
a valid landing: no municipality joined within the data window (the before-and-after
comparison), no copy idle long enough while holds wait elsewhere (the collection advice),
no scenario run (the scenario comparison), no advice tried in a rerun (its check). Their sources must still give a row (of
nulls, which the pages leave out), and the pages' guards then say that nothing is there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from bibbla import reports

SOURCES_DIR = reports.REPORTS_DIR / "sources" / "warehouse"

# The marts that a valid data window may leave empty, and the sources that read them.
MAY_BE_EMPTY = {
    "mart_equity_join_did_month": ["join_comparison"],
    "mart_collection_advice": ["collection_advice", "collection_advice_municipality"],
    "mart_scenario_comparison": ["scenario_comparison"],
    "mart_scenario_advice_check": ["advice_check"],
}


def _source_sql(name: str) -> str:
    return (SOURCES_DIR / f"{name}.sql").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def emptied_warehouse(report_warehouse, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("emptied") / "warehouse.duckdb"
    shutil.copyfile(report_warehouse.path, copy)
    with duckdb.connect(str(copy)) as connection:
        for mart in MAY_BE_EMPTY:
            connection.execute(f"delete from main.{mart}")
    return copy


def test_every_source_query_is_known_to_this_test() -> None:
    """A new source that reads an optional mart must be listed above (and guarded)."""
    for path in SOURCES_DIR.glob("*.sql"):
        sql = path.read_text(encoding="utf-8")
        for mart, sources in MAY_BE_EMPTY.items():
            if f"main.{mart}" in sql:
                assert path.stem in sources, f"{path.name} reads {mart}: list and guard it"


@pytest.mark.parametrize(
    "source", sorted({source for sources in MAY_BE_EMPTY.values() for source in sources})
)
def test_a_source_over_an_empty_mart_still_has_a_row(emptied_warehouse, source) -> None:
    with duckdb.connect(str(emptied_warehouse), read_only=True) as connection:
        rows = connection.execute(_source_sql(source)).fetchall()
    assert rows, f"{source}.sql returns no row when its mart is empty: Evidence's build fails"


def test_the_guard_row_is_no_extra_row_when_there_is_data(report_warehouse) -> None:
    """On the world's own data the sources return what their marts hold, and no null row."""
    with duckdb.connect(str(report_warehouse.path), read_only=True) as connection:
        ((did_rows,),) = connection.execute(
            "select count(*) from main.mart_equity_join_did_month"
        ).fetchall()
        assert did_rows > 0, "the world should have a join within its data window"
        shipped = connection.execute(_source_sql("join_comparison")).fetchall()
    assert len(shipped) == did_rows
    assert all(row[0] is not None for row in shipped)
