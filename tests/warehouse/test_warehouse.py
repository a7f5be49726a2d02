"""The warehouse built from a short simulated period: totals cross-checked against the
landing and the lending core, disclosure control, incremental = full refresh, and the
metric catalogue pointing at real columns."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest

from privacy.rules import people_counts, suppression_threshold
from tests.warehouse.conftest import SCALE, BuiltWarehouse
from warehouse.build import (
    TESTS_SINCE_VARIABLE,
    WarehouseBuildError,
    newest_tested_snapshot,
    nightly_build,
    run_dbt,
)

pytestmark = pytest.mark.slow

FACTS = ["fct_loans", "fct_holds", "fct_transports"]


def landed_events(built: BuiltWarehouse, event_type: str) -> int:
    pattern = str(built.settings.landing_path / "circulation_event" / "*" / "*.parquet")
    with duckdb.connect() as connection:
        return connection.execute(
            "select count(*) from read_parquet(?, hive_partitioning = true) where type = ?",
            [pattern, event_type],
        ).fetchone()[0]


class WarehouseCopy:
    """A copy of the shared warehouse and its landing in a test's own folder, for the tests
    that break the landing on purpose and build against it; `settings` points at both."""

    def __init__(self, built: BuiltWarehouse, folder: Path) -> None:
        self.landing = folder / "landing"
        shutil.copytree(built.settings.landing_path, self.landing)
        self.warehouse = folder / "warehouse.duckdb"
        shutil.copyfile(built.path, self.warehouse)
        self.settings = built.settings.model_copy(
            update={"landing": self.landing, "warehouse": self.warehouse}
        )

    def event_batches(self) -> list[Path]:
        return sorted((self.landing / "circulation_event").glob("*/*.parquet"))


@pytest.fixture
def warehouse_copy(built_warehouse: BuiltWarehouse, tmp_path: Path) -> WarehouseCopy:
    return WarehouseCopy(built_warehouse, tmp_path)


def test_the_build_ran_its_unit_tests_and_passed(built_warehouse: BuiltWarehouse) -> None:
    log = "\n".join(built_warehouse.log)
    assert "index_reproduces_the_worked_example_of_metrics_md" in log
    assert "ERROR=0" in log


def test_loans_match_the_landing_and_the_lending_core(built_warehouse: BuiltWarehouse) -> None:
    (loans,) = built_warehouse.query("select count(*) from main.fct_loans")[0]
    database = built_warehouse.operational_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        (operational_loans,) = connection.execute("select count(*) from loan").fetchone()
    assert loans > 0
    assert loans == landed_events(built_warehouse, "checkout") == operational_loans


def test_holds_and_transports_match_the_landing(built_warehouse: BuiltWarehouse) -> None:
    (holds,) = built_warehouse.query("select count(*) from main.fct_holds")[0]
    (transports,) = built_warehouse.query("select count(*) from main.fct_transports")[0]
    assert holds == landed_events(built_warehouse, "hold_placed")
    assert transports == landed_events(built_warehouse, "transport_requested")


def test_municipalities_add_up_to_the_consortium(built_warehouse: BuiltWarehouse) -> None:
    rows = built_warehouse.query(
        """
        with by_municipality as (
            select period_type, period_start, sum(loans) as loans, sum(holds_placed) as holds
            from intermediate.int_equity_municipality_period
            group by all
        ),
        consortium as (
            select 'month' as period_type, checkout_month as period_start, count(*) as loans
            from main.fct_loans group by all
            union all
            select 'year', date_trunc('year', checkout_date)::date, count(*)
            from main.fct_loans group by all
        ),
        holds as (
            select 'month' as period_type, placed_month as period_start, count(*) as holds
            from main.fct_holds group by all
        )
        select c.period_type, c.period_start, c.loans, m.loans, h.holds, m.holds
        from consortium c
        join by_municipality m using (period_type, period_start)
        left join holds h using (period_type, period_start)
        """
    )
    assert len(rows) >= 4  # three months and a year at least
    for period_type, start, consortium_loans, municipality_loans, holds, municipality_holds in rows:
        assert consortium_loans == municipality_loans, (period_type, start)
        if holds is not None:
            assert holds == municipality_holds, (period_type, start)


def test_marts_suppress_every_count_of_fewer_than_five(built_warehouse: BuiltWarehouse) -> None:
    threshold = suppression_threshold()
    for grain in ("month", "year"):
        mart = f"main.mart_equity_municipality_{grain}"
        for column in people_counts():
            small = built_warehouse.query(
                f"select count(*) from {mart} where {column} between 1 and {threshold - 1}"
            )[0][0]
            assert small == 0, f"{mart}.{column} publishes a count of 1-{threshold - 1}"
    # ...and the rule did bite: the unsuppressed loans of some small group are 1-4 people,
    # and exactly those cells are null in the mart.
    pairs = built_warehouse.query(
        """
        select i.borrowers, m.loans, m.active_borrowers, m.loans_per_capita,
               m.borrowers_suppressed, m.has_suppressed_cells
        from intermediate.int_equity_municipality_period i
        join main.mart_equity_municipality_month m using (municipality_code, period_start)
        where i.period_type = 'month'
        """
    )
    suppressed = [row for row in pairs if 1 <= row[0] < threshold]
    assert suppressed, "at this scale some month must rest on fewer than five borrowers"
    for _, loans, borrowers, per_capita, flag, any_flag in suppressed:
        assert (loans, borrowers, per_capita, flag, any_flag) == (None, None, None, True, True)
    (small_cells,) = built_warehouse.query(
        "select count(*) from main.mart_equity_municipality_month where has_suppressed_cells"
    )[0]
    assert small_cells > 0, "at this scale some cells must rest on fewer than five people"


def test_loans_between_municipalities_add_up_and_hide_small_pairs(
    built_warehouse: BuiltWarehouse,
) -> None:
    # every loan of an item to a resident of another municipality is in exactly one pair:
    # an owner's pairs add up to its loans to non-residents, a borrower municipality's to
    # its residents' shared loans (unsuppressed, in intermediate)
    for side, column in (("owner", "loans_to_non_residents"), ("borrower", "shared_loans")):
        differences = built_warehouse.query(
            f"""
            select e.municipality_code, e.period_type, e.period_start
            from intermediate.int_equity_municipality_period as e
            left join (
                select {side}_municipality_code as municipality_code, period_type,
                    period_start, sum(loans) as loans
                from intermediate.int_municipality_pairs
                group by all
            ) as p using (municipality_code, period_type, period_start)
            where e.{column} <> coalesce(p.loans, 0)
            """
        )
        assert differences == [], (side, differences[:5])
    for grain in ("month", "year"):
        mart = f"main.mart_loans_between_municipalities_{grain}"
        for column in ("loans", "borrowers", "holds_filled", "hold_patrons"):
            (small,) = built_warehouse.query(
                f"select count(*) from {mart} where {column} between 1 and 4"
            )[0]
            assert small == 0, f"{mart}.{column} publishes a count of 1-4"
        # the rule bites at this scale: pairs resting on 1-4 people are hidden, and in the
        # months some resting on more (complementary suppression; the years' lines already
        # hide enough small pairs)
        (primary, complementary) = built_warehouse.query(
            f"""
            select
                count(*) filter (where i.borrowers between 1 and 4),
                count(*) filter (where i.borrowers >= 5 and m.loans_suppressed)
            from {mart} as m
            join intermediate.int_municipality_pairs as i
                using (owner_municipality_code, borrower_municipality_code, period_start)
            where i.period_type = '{grain}' and m.loans is null
            """
        )[0]
        assert primary > 0 and (complementary > 0 or grain == "year"), (grain, complementary)


def test_data_says_it_is_simulated(built_warehouse: BuiltWarehouse) -> None:
    [(is_simulated, scale, source)] = built_warehouse.query(
        "select is_simulated, population_scale, data_source from main.mart_data_provenance"
    )
    assert (is_simulated, scale, source) == (True, SCALE, "simulated")
    sources = {
        row[0]
        for mart in ("mart_equity_municipality_month", "mart_equity_index_year",
                     "mart_transport_month", "mart_equity_join_did_month")
        for row in built_warehouse.query(f"select distinct data_source from main.{mart}")
    }  # fmt: skip
    assert sources == {"simulated"}


def test_nine_municipalities_and_two_cohorts(built_warehouse: BuiltWarehouse) -> None:
    rows = built_warehouse.query(
        "select cohort, count(distinct municipality_code) from main.mart_equity_municipality_month"
        " group by cohort order by cohort"
    )
    assert rows == [("earlier_members", 4), ("joiners", 5)]
    members = built_warehouse.query(
        "select period_start, municipalities, is_withheld from main.mart_equity_index_month"
        " where metric = 'loans_per_capita' and scope = 'members' order by period_start"
    )
    published = dict(
        built_warehouse.query(
            "select period_start, count(*) from main.mart_equity_municipality_month"
            " where is_member and loans_per_capita is not null group by 1 order by 1"
        )
    )
    members_by_month = dict(
        built_warehouse.query(
            "select period_start, count(*) from main.mart_equity_municipality_month"
            " where is_member group by 1 order by 1"
        )
    )
    # The index covers every member (4 until March 2025, 9 from April 2025), or, where one
    # member's cell is hidden, is withheld rather than silently covering fewer.
    expected = [4] * 15 + [9] * 2  # January 2024 to May 2025
    assert [month for month, _, _ in members] == months_of_the_world()
    assert [count for _, count, _ in members] == expected
    assert [members_by_month[month] for month, _, _ in members] == expected
    for month, count, withheld in members:
        assert withheld == (published.get(month, 0) < count), month


def months_of_the_world() -> list[date]:
    return [date(2024 + index // 12, index % 12 + 1, 1) for index in range(17)]


def test_metric_catalogue_points_at_existing_columns(built_warehouse: BuiltWarehouse) -> None:
    columns = set(
        built_warehouse.query(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'main'"
        )
    )
    catalogue = built_warehouse.query(
        "select metric, marts, column_name from main.metric_definitions"
    )
    assert catalogue
    for metric, marts, column in catalogue:
        for mart in marts.split(";"):
            assert (mart, column) in columns, f"{metric}: {mart}.{column} does not exist"


def test_incremental_facts_equal_a_full_refresh(
    built_warehouse: BuiltWarehouse, tmp_path: Path, dbt_paths
) -> None:
    copy = tmp_path / "full-refresh.duckdb"
    shutil.copyfile(built_warehouse.path, copy)
    settings = built_warehouse.settings.model_copy(update={"warehouse": copy})
    run_dbt(
        ["run", "--select", *FACTS, "--full-refresh"],
        settings,
        log=lambda line: None,
        **dbt_paths,
    )
    with duckdb.connect() as connection:
        connection.execute(f"attach '{built_warehouse.path}' as incremental (read_only)")
        connection.execute(f"attach '{copy}' as full_refresh (read_only)")
        for fact in FACTS:
            (rows,) = connection.execute(f"select count(*) from incremental.main.{fact}").fetchone()
            differences = connection.execute(
                f"""
                select count(*) from (
                    (select * from incremental.main.{fact}
                     except all select * from full_refresh.main.{fact})
                    union all
                    (select * from full_refresh.main.{fact}
                     except all select * from incremental.main.{fact})
                )
                """
            ).fetchone()[0]
            assert rows > 0
            assert differences == 0, f"{fact}: incremental and full refresh differ"


def test_a_quarantined_row_fails_the_build(warehouse_copy: WarehouseCopy, dbt_paths) -> None:
    # one row in the quarantine layout of the event table (the other columns may be
    # missing: the quarantine source reads with union_by_name)
    with duckdb.connect() as connection:
        connection.execute(
            "copy (select 'db' as database_id, 1::bigint as id,"
            " 'patron_id is missing' as quarantine_reason) to ? (format parquet)",
            [str(warehouse_copy.landing / "_quarantine" / "circulation_event" / "part-x.parquet")],
        )
    output: list[str] = []
    with pytest.raises(WarehouseBuildError):
        run_dbt(
            ["build", "--select", "stg_quarantine__rows", "assert_no_quarantined_rows"],
            warehouse_copy.settings,
            log=output.append,
            **dbt_paths,
        )
    assert any("FAIL 1 assert_no_quarantined_rows" in line for line in output), output[-20:]


def test_duplicate_events_are_removed_and_counted(
    built_warehouse: BuiltWarehouse, warehouse_copy: WarehouseCopy, dbt_paths
) -> None:
    # a batch landed twice under another file name (what a broken re-run would leave)
    batch = warehouse_copy.event_batches()[-1]
    shutil.copyfile(batch, batch.with_name("part-again.parquet"))
    with duckdb.connect() as connection:
        (copies,) = connection.execute(
            "select count(*) from read_parquet(?)", [str(batch)]
        ).fetchone()
    output: list[str] = []
    run_dbt(
        ["build", "--select", "stg_lending_core__circulation_event", "mart_data_quality"],
        warehouse_copy.settings,
        log=output.append,
        **dbt_paths,
    )
    assert any("WARN" in line and "landed_copies" in line for line in output), output[-20:]
    with duckdb.connect(str(warehouse_copy.warehouse), read_only=True) as connection:
        (removed,) = connection.execute(
            "select duplicate_rows_removed from main.mart_data_quality"
            " where table_name = 'circulation_event'"
        ).fetchone()
        (events,) = connection.execute(
            "select count(*) from staging.stg_lending_core__circulation_event"
        ).fetchone()
    assert removed == copies
    assert (
        events
        == built_warehouse.query(
            "select count(*) from staging.stg_lending_core__circulation_event"
        )[0][0]
    )


def test_an_event_that_left_the_landing_fails_the_build(
    warehouse_copy: WarehouseCopy, dbt_paths
) -> None:
    """The event table is built incrementally: it keeps what it numbered. A landed file
    removed afterwards (not by the retention rule, whose rebuild numbers everything again)
    leaves events in the table that the landing no longer has; the build says so."""
    warehouse_copy.event_batches()[0].unlink()
    output: list[str] = []
    with pytest.raises(WarehouseBuildError):
        run_dbt(
            ["build", "--select", "stg_lending_core__circulation_event",
             "assert_events_equal_the_landing"],
            warehouse_copy.settings,
            log=output.append,
            **dbt_paths,
        )  # fmt: skip
    assert any("FAIL 1 assert_events_equal_the_landing" in line for line in output), output[-20:]


def test_incremental_builds_test_only_the_new_snapshot_partitions(
    built_warehouse: BuiltWarehouse, tmp_path: Path, dbt_paths
) -> None:
    """The nightly test window (macros/test_window.sql): a bad row in a snapshot partition
    that an earlier build already tested is not read again by an incremental build (that is
    the saving), one in a partition landed since is caught, and a full build reads all."""
    since = newest_tested_snapshot(built_warehouse.path)
    assert since is not None
    items = built_warehouse.settings.landing_path / "item"
    dates = sorted(date.fromisoformat(p.name.removeprefix("date=")) for p in items.glob("date=*"))
    assert len(dates) >= 2 and dates[0] < since <= dates[-1], (dates, since)
    window = nightly_build(built_warehouse.path, full_refresh=False).environment
    assert window == {TESTS_SINCE_VARIABLE: since.isoformat()}
    assert nightly_build(built_warehouse.path, full_refresh=True).environment == {}

    def unique_items_test(landing: Path, extra_env: dict[str, str]) -> list[str]:
        """The uniqueness test of (snapshot_date, item_id) on a copy of the warehouse."""
        warehouse = tmp_path / f"warehouse-{len(list(tmp_path.iterdir()))}.duckdb"
        shutil.copyfile(built_warehouse.path, warehouse)
        settings = built_warehouse.settings.model_copy(
            update={"landing": landing, "warehouse": warehouse}
        )
        output: list[str] = []
        try:
            run_dbt(
                ["build", "--select", "stg_lending_core__item"],
                settings,
                log=output.append,
                **dbt_paths,
                extra_env=extra_env,
            )
        except WarehouseBuildError:
            output.append("BUILD FAILED")
        return output

    def landing_with_duplicate_item_rows(on: date) -> Path:
        landing = tmp_path / f"landing-{on}"
        shutil.copytree(built_warehouse.settings.landing_path, landing)
        [part, *_] = sorted((landing / "item" / f"date={on}").glob("*.parquet"))
        shutil.copyfile(part, part.with_name("part-landed-twice.parquet"))
        return landing

    old = landing_with_duplicate_item_rows(dates[0])
    assert "BUILD FAILED" not in unique_items_test(old, window)
    assert "BUILD FAILED" in unique_items_test(old, {})  # a full build tests every partition
    new = landing_with_duplicate_item_rows(dates[-1])
    assert "BUILD FAILED" in unique_items_test(new, window)


def test_row_rules_fail_on_each_broken_rule_and_name_it(
    built_warehouse: BuiltWarehouse, tmp_path: Path, dbt_paths
) -> None:
    """A model's row rules run as one test (macros/tests/row_rules.sql): it fails on every
    row that breaks one of them, and each failing row says which rules it broke."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.path, warehouse)
    mart = "main.mart_equity_municipality_month"
    with duckdb.connect(str(warehouse)) as connection:
        keys = connection.execute(
            f"select municipality_code, period_start from {mart} order by all limit 2"
        ).fetchall()
        # one row with an unknown cohort and a negative rate, one with no year
        connection.execute(
            f"update {mart} set cohort = 'nobody', loans_per_capita = -1 "
            "where municipality_code = ? and period_start = ?",
            list(keys[0]),
        )
        connection.execute(
            f"update {mart} set year = null where municipality_code = ? and period_start = ?",
            list(keys[1]),
        )
    settings = built_warehouse.settings.model_copy(update={"warehouse": warehouse})
    test = "mart_equity_municipality_month_row_rules"
    output: list[str] = []
    with pytest.raises(WarehouseBuildError):
        run_dbt(
            ["test", "--select", test],
            settings,
            log=output.append,
            **dbt_paths,
        )
    assert any(f"FAIL 2 {test}" in line for line in output), output[-20:]
    compiled = next((dbt_paths["target_path"] / "compiled").rglob(f"{test}.sql"))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        broken = connection.execute(
            f"select municipality_code, period_start, broken_rules from ({compiled.read_text()})"
            " order by all"
        ).fetchall()
    assert broken == [
        (*keys[0], "accepted_values(cohort); value_between(loans_per_capita, 0, )"),
        (*keys[1], "not_null(year)"),
    ]


def test_each_contracted_mart_key_is_a_primary_key_and_still_tested_elsewhere(
    built_warehouse: BuiltWarehouse,
) -> None:
    """The marts the reports read declare their key as a primary key, which DuckDB enforces
    as it writes the table; the uniqueness test of that key is left out on DuckDB only
    (dbt_project.yml, key_enforcing_targets), so a target without keys still runs it."""
    manifest = json.loads((built_warehouse.first_build_target / "manifest.json").read_text())
    declared = {
        node["name"]: constraint["columns"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for constraint in node.get("constraints", [])
        if constraint["type"] == "primary_key"
    }
    assert len(declared) >= 10
    enforced = {
        table: list(columns)
        for table, columns in built_warehouse.query(
            "select table_name, constraint_column_names from duckdb_constraints()"
            " where constraint_type = 'PRIMARY KEY' and schema_name = 'main'"
        )
    }
    assert {model: enforced.get(model) for model in declared} == declared
    left_out = {}
    for node in (node for nodes in manifest["disabled"].values() for node in nodes):
        if node["resource_type"] == "test" and node.get("attached_node"):
            arguments = node["test_metadata"]["kwargs"]
            key = arguments.get("combination_of_columns") or [arguments["column_name"]]
            left_out.setdefault(node["attached_node"].split(".")[-1], []).append(key)
    for model, key in declared.items():
        assert key in left_out.get(model, []), f"{model}: no uniqueness test of {key} elsewhere"
