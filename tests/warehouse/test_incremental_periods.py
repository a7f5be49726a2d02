"""A nightly build, which recomputes only the years of the period aggregates it touched
(dbt_project/macros/period_incremental.sql), gives every table a full rebuild gives.

One small simulated period across the turn of a year (so a nightly run has a year it
must leave alone and one it must rebuild, with loans of December still open in
January), landed and built in full once; then three nights, each one more simulated day
landed: the first built only in part (`dbt run` of the facts alone: the watermark must
not move), the next two as the nightly run builds. The warehouse is then copied and rebuilt with
`--full-refresh` on the same landing, and every table of `main` and `intermediate` must
be the same row for row, but for the two that describe the build rather than the data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bibbla.config import Settings
from ingestion.pipeline import ingest
from tests.settings import environment, settings_under
from tests.spark.equality import _same, _sort_key
from tests.world import KEY
from warehouse.build import build_warehouse, run_dbt

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
START, FIRST_DAYS, NIGHTS = "2024-12-01", 40, 3  # first build after 2025-01-09
# what the build did, not what the data says: differ between a nightly and a full build
BUILD_STATE_MODELS = {"int_rebuilt_years", "int_fact_month_fingerprints"}


def _settings(root: Path) -> Settings:
    return settings_under(root, KEY)


def _bibbla(arguments: list[str], settings: Settings) -> None:
    subprocess.run([BIBBLA, *arguments], env=environment(settings), check=True, capture_output=True)


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        names = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('main', 'intermediate')"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                connection.execute(f'select * from {schema}."{name}"').fetchall(), key=_sort_key
            )
            for schema, name in names
            if name not in BUILD_STATE_MODELS
        }


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _watermark(warehouse: Path) -> list[tuple]:
    return _query(warehouse, "select through_event_id from build_state.period_watermark")


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The warehouse after a first build and three nights (one built in part)."""
    root = tmp_path_factory.mktemp("incremental-periods")
    settings = _settings(root / "nightly")
    operational = settings.operational_db
    _bibbla(["db", "init", "--reset", "--db", operational], settings)
    _bibbla(
        ["simulate", "--db", operational, "--scale", "0.01", "--seed", "7", "--start", START,
         "--end", "2025-03-01", "--days", str(FIRST_DAYS)],
        settings,
    )  # fmt: skip
    dbt = {"target_path": root / "dbt-target", "log_path": root / "dbt-logs", "log": lambda _: None}
    assert ingest(settings).ok
    build_warehouse(settings, **dbt)
    first = _watermark(settings.warehouse_path)
    for night in range(NIGHTS):
        _bibbla(["simulate", "--db", operational, "--resume", "--days", "1"], settings)
        assert ingest(settings).ok
        if night == 0:
            # the facts alone: no aggregate rebuilt, so the watermark stays where it was
            facts = ["fct_loans", "fct_holds", "fct_transports"]
            run_dbt(["run", "--select", *facts], settings, **dbt)
            assert _watermark(settings.warehouse_path) == first
        else:
            build_warehouse(settings, **dbt)
            assert _watermark(settings.warehouse_path) != first
    return settings


def test_a_nightly_build_rebuilds_only_the_years_it_touched(nightly: Settings):
    warehouse = nightly.warehouse_path
    rebuilt = _query(warehouse, "select year_start from intermediate.int_rebuilt_years")
    assert rebuilt == [(date(2025, 1, 1),)]
    # December 2024 has loans still open in January, so its fact month was rebuilt, yet
    # nothing the aggregates count changed there
    fingerprinted = _query(
        warehouse,
        "select distinct month_start from intermediate.int_fact_month_fingerprints "
        "where fact = 'loans' order by 1",
    )
    assert (date(2024, 12, 1),) in fingerprinted
    years = _query(
        warehouse,
        "select distinct period_start from intermediate.int_equity_loans_keyed "
        "where period_type = 'year' order by 1",
    )
    assert years == [(date(2024, 1, 1),), (date(2025, 1, 1),)]


def test_a_nightly_build_gives_what_a_full_rebuild_gives(nightly: Settings, tmp_path: Path):
    full = _settings(tmp_path / "full")
    shutil.copytree(nightly.data_dir, full.data_dir)
    build_warehouse(
        full,
        full_refresh=True,
        target_path=tmp_path / "dbt-target",
        log_path=tmp_path / "dbt-logs",
        log=lambda _: None,
    )
    incremental, rebuilt = _tables(nightly.warehouse_path), _tables(full.warehouse_path)
    assert set(incremental) == set(rebuilt)
    assert len(incremental) > 40
    for name in sorted(incremental):
        assert len(incremental[name]) == len(rebuilt[name]), name
        for row_nightly, row_full in zip(incremental[name], rebuilt[name], strict=True):
            # equal, but for a float summed in another order (a relative 1e-9)
            assert all(_same(a, b) for a, b in zip(row_nightly, row_full, strict=True)), (
                f"{name}: nightly {row_nightly} != full {row_full}"
            )
    # the full rebuild starts the kept state again from every month
    assert _query(
        full.warehouse_path,
        "select bool_and(covers_every_month) from intermediate.int_fact_month_fingerprints",
    ) == [(True,)]
