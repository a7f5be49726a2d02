"""Retention of patron keys end to end, on a simulated history over a year's end: after
`bibbla ingest retention` (BIBBLA_RETENTION_MONTHS=1) no landed file and no warehouse
table holds a patron key dated before the cutoff, the keys after it are all there, every
mart is the same row for row, a second run (the Dagster asset) changes nothing, and a
`dbt build --full-refresh` afterwards still gives the same marts, because the frozen
aggregates survive it.

The history runs from 2024-11-16 to 2025-01-20, so one month of retention gives the
cutoff 2024-12-01 (December 2024, one month before January 2025): the second half of
November loses its keys, the year 2024 is cut in two (complete, so its people counts are
frozen whole, and so are its months' year-to-date "one card" counts), and December and
January keep their keys. A snapshot is landed on 2024-11-25, before the cutoff.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from bibbla.config import PROJECT_ROOT, Settings
from ingestion.contract import TABLES
from ingestion.history import read_history, state_on
from orchestration.assets.retention import patron_keys
from tests.settings import environment, settings_under
from tests.stress import STRESS
from warehouse.build import run_dbt

# The module's fixture simulates, lands, builds, runs the rule and builds again: 4-5 minutes
# alone on a slow machine, past the suite's 10-minute timeout when the machine is shared
# (2026-12-07: 600 s reached under a concurrent Spark build). The world's tests get as long.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
KEY = "reliability-retention-pseudonym-key-0123456789"
START, FIRST_DAYS, END, SCALE, SEED = "2024-11-16", "10", "2025-01-20", "0.02", "5"
CUTOFF = date(2024, 12, 1)
EARLY_SNAPSHOT = date(2024, 11, 25)
FACT_DATES = {"fct_loans": "checkout_date", "fct_holds": "placed_date"}
# Computed from the keys, so short for the frozen periods once the keys are gone (the
# live models beside them take the frozen counts); and the patrons themselves.
KEYED_MODELS = {
    "int_equity_loans_keyed",
    "int_equity_holds_keyed",
    "int_goal_one_card_month_keyed",
    "int_municipality_pairs_keyed",
    "int_patrons",
}
# What a build did rather than what the data says (dbt_project/macros/period_incremental.sql):
# the years a build rebuilt, and the fact months' fingerprints (of the keys among the rest).
BUILD_STATE_MODELS = {"int_rebuilt_years", "int_fact_month_fingerprints"}
# Models that count people themselves, without frozen counts, only to suppress: the
# collection advice (the people behind a title's holds in the 12 months up to its date;
# docs/metrics.md, "Collection balancing advice") and a scenario run's figures (the share
# of holds filled elsewhere is hidden on 1-4 patrons). Where their window reaches before
# the cutoff (here: all of it; with the default 36 months of keys, the advice never) they
# know fewer people afterwards and can only hide more: test_what_counts_people_itself_
# can_only_hide_more checks exactly that.
HIDE_MORE_MODELS = {
    "int_collection_hold_demand",
    "mart_collection_advice",
    "mart_scenario_run_year",
}


@dataclass
class Retention:
    settings: Settings
    env: dict[str, str]
    root: Path
    before: Path  # the warehouse as built before the retention
    landing_before: Path
    dry_run_output: str
    dry_run_changed: list[str]
    output: str
    seconds: float

    @property
    def dbt_paths(self) -> dict[str, Path]:
        return {"target_path": self.root / "dbt-target", "log_path": self.root / "dbt-logs"}


def _bibbla(arguments: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [BIBBLA, *arguments], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    if result.returncode != 0:
        pytest.fail(f"bibbla {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _mtimes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*.parquet")
    }


@pytest.fixture(scope="module")
def retention(tmp_path_factory: pytest.TempPathFactory) -> Retention:
    root = tmp_path_factory.mktemp("retention")
    settings = settings_under(root, KEY, retention_months=1)
    database = settings.operational_db_url
    # dbt's artefacts away from dbt_project/target, which others may be reading
    env = environment(
        settings, DBT_TARGET_PATH=str(root / "dbt-target"), DBT_LOG_PATH=str(root / "dbt-logs")
    )
    _bibbla(["db", "init", "--reset", "--db", database], env)
    simulate = ["simulate", "--db", database, "--scale", SCALE, "--seed", SEED]
    _bibbla([*simulate, "--start", START, "--end", END, "--days", FIRST_DAYS], env)
    _bibbla(["ingest"], env)  # a snapshot as of 2024-11-25, before the cutoff
    _bibbla(["simulate", "--db", database, "--resume"], env)
    _bibbla(["ingest"], env)
    # The warehouse as the nightly run leaves it (its tests run in the retention's build).
    run_dbt(
        ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
        settings,
        log=lambda _line: None,
        target_path=root / "dbt-target",
        log_path=root / "dbt-logs",
    )
    before = root / "before.duckdb"
    shutil.copyfile(settings.warehouse_path, before)
    landing_before = root / "landing-before"
    shutil.copytree(settings.landing_path, landing_before)

    files = _mtimes(settings.landing_path)
    warehouse_time = settings.warehouse_path.stat().st_mtime_ns
    dry_run = _bibbla(["ingest", "retention", "--dry-run"], env)
    changed = [
        name for name, mtime in _mtimes(settings.landing_path).items() if files[name] != mtime
    ]
    if settings.warehouse_path.stat().st_mtime_ns != warehouse_time:
        changed.append("warehouse")

    started = time.monotonic()
    output = _bibbla(["ingest", "retention"], env)
    return Retention(
        settings,
        env,
        root,
        before,
        landing_before,
        dry_run,
        changed,
        output,
        time.monotonic() - started,
    )


def _keyed_landing_files(landing: Path) -> list[tuple[Path, date | None]]:
    """Every landed file with a patron_key column, with the date it is dated by."""
    found = []
    for path in sorted(landing.rglob("*.parquet")):
        if "patron_key" not in pl.read_parquet_schema(path):
            continue
        partition = path.parent.name
        day = date.fromisoformat(partition.removeprefix("date=")) if "=" in partition else None
        found.append((path, day))
    return found


def test_the_run_said_what_it_did(retention: Retention) -> None:
    assert "cutoff 2024-12-01" in retention.output
    assert "1 month" in retention.output
    assert "frozen first:" in retention.output and "retained_loan_borrowers +" in retention.output
    assert "landing:" in retention.output and "files rewritten" in retention.output
    assert "from the facts (rebuilt)" in retention.output
    # the dry run said the same, and changed nothing
    assert "cutoff 2024-12-01" in retention.dry_run_output
    assert "would be removed" in retention.dry_run_output
    assert retention.dry_run_changed == []
    landed_keys = _line_number(retention.output, "patron keys removed, ")
    assert landed_keys > 0
    assert _line_number(retention.dry_run_output, "patron keys would be removed") == landed_keys


def _line_number(output: str, marker: str) -> int:
    """The first number on the line of `output` that contains `marker`."""
    line = next(line for line in output.splitlines() if marker in line)
    return int(next(word for word in line.replace(",", " ").split() if word.isdigit()))


def _valid_at_cutoff(landing: Path, table: str) -> pl.DataFrame:
    """The rows of a history table's state on the cutoff (as landed, key columns kept)."""
    contract = TABLES[table]
    return state_on(read_history(landing / table, contract), contract, CUTOFF)


def test_no_landed_file_holds_a_key_from_before_the_cutoff(retention: Retention) -> None:
    landing = retention.settings.landing_path
    keyed = _keyed_landing_files(landing)
    tables_before_cutoff = set()
    for path, day in keyed:
        keys = pl.read_parquet(path, hive_partitioning=False)["patron_key"]
        table = path.parent.parent.name
        if day is not None and day < CUTOFF and path.name.startswith("changes-"):
            # a history: what was in no state from the cutoff on lost its key; a version
            # still valid at the cutoff kept it, as the copies taken after it did
            valid = _valid_at_cutoff(landing, table)
            rows = pl.read_parquet(path, hive_partitioning=False)
            kept = rows.filter(pl.col("patron_key").is_not_null())
            stale = kept.join(valid, on=list(kept.columns), how="anti", nulls_equal=True)
            assert stale.height == 0, path
            old = pl.read_parquet(
                retention.landing_before / path.relative_to(landing), hive_partitioning=False
            )["patron_key"]
            if keys.null_count() > old.null_count():
                tables_before_cutoff.add(table)
        elif day is not None and day < CUTOFF:
            assert keys.null_count() == keys.len(), f"{path} still holds patron keys"
            tables_before_cutoff.add(table)
        elif day is not None and table == "circulation_event":
            # what keeps its keys keeps all of them (events of other types have none)
            old = pl.read_parquet(
                retention.landing_before / path.relative_to(landing), hive_partitioning=False
            )["patron_key"]
            assert keys.to_list() == old.to_list(), path
    assert {"circulation_event", "open_loan", "active_hold"} <= tables_before_cutoff
    # the history landed before the cutoff, the newest patron changes have all their keys
    latest = max(day for path, day in keyed if path.parent.parent.name == "patron")
    assert EARLY_SNAPSHOT < CUTOFF <= latest
    for path, day in keyed:
        if path.parent.parent.name == "patron" and day == latest:
            assert pl.read_parquet(path)["patron_key"].null_count() == 0
    events = pl.read_parquet(
        landing / "circulation_event" / "*" / "*.parquet", hive_partitioning=True
    )
    with_patron = events.filter(pl.col("type").is_in(["checkout", "hold_placed", "renew"]))
    after = with_patron.filter(pl.col("date") >= CUTOFF)
    assert after.height > 0 and after["patron_key"].null_count() == 0
    assert with_patron.filter(pl.col("date") < CUTOFF)["patron_key"].null_count() > 0


def test_no_warehouse_table_holds_a_key_from_before_the_cutoff(retention: Retention) -> None:
    with duckdb.connect(str(retention.settings.warehouse_path), read_only=True) as connection:
        tables = {
            (schema, table)
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = 'patron_key' and table_schema <> 'staging'"
            ).fetchall()
        }
        # only the facts and the patrons (today's, from the newest snapshot) keep keys;
        # what the retention froze never had any
        assert tables == {
            ("main", "fct_loans"),
            ("main", "fct_holds"),
            ("intermediate", "int_patrons"),
        }
        for fact, column in FACT_DATES.items():
            counts = dict(
                connection.execute(
                    f"select {column} < ?, count(patron_key) * 1.0 / count(*) "
                    f"from main.{fact} group by 1",
                    [CUTOFF],
                ).fetchall()
            )
            assert counts == {True: 0.0, False: 1.0}, fact
        frozen = dict(
            connection.execute(
                "select table_name, estimated_size from duckdb_tables() "
                "where schema_name = 'retention'"
            ).fetchall()
        )
        assert set(frozen) == {
            "retained_loan_borrowers",
            "retained_hold_residents",
            "retained_equity_loan_people",
            "retained_equity_hold_people",
            "retained_goal_one_card_month",
            "retained_municipality_pair_people",
        }
        periods = connection.execute(
            "select distinct period_type, period_start from retention.retained_equity_loan_people"
            " order by 1, 2"
        ).fetchall()
        # November 2024 and the year 2024 (which the cutoff cuts, complete), nothing later
        assert periods == [("month", date(2024, 11, 1)), ("year", date(2024, 1, 1))]
        one_card = connection.execute(
            "select month_start from retention.retained_goal_one_card_month order by 1"
        ).fetchall()
        assert one_card == [(date(2024, 11, 1),), (date(2024, 12, 1),)]


def _tables(connection: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    rows = connection.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "and schema_name in ('main', 'intermediate') order by 1, 2",
        [database],
    ).fetchall()
    left_out = KEYED_MODELS | BUILD_STATE_MODELS | HIDE_MORE_MODELS
    return [(schema, table) for schema, table in rows if table not in left_out]


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        # sums of doubles come out in the order the threads finish (population weights)
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
    return left == right


def differing_tables(before: Path, after: Path) -> dict[str, str]:
    """Every table of `main` and `intermediate` (but the ones computed from the keys),
    compared row for row without `patron_key`; doubles to 1e-9."""
    differences = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{before}' as before_retention (read_only)")
        connection.execute(f"attach '{after}' as after_retention (read_only)")
        tables = _tables(connection, "before_retention")
        assert tables == _tables(connection, "after_retention")
        for schema, table in tables:
            columns = connection.execute(
                "select column_name, data_type from duckdb_columns() where database_name = ? "
                "and schema_name = ? and table_name = ? order by column_index",
                ["before_retention", schema, table],
            ).fetchall()
            kept = [name for name, _type in columns if name != "patron_key"]
            exact = [name for name, kind in columns if name in kept and kind != "DOUBLE"]
            select = ", ".join(f'"{name}"' for name in kept)
            order = ", ".join(f'"{name}"' for name in exact) or "1"
            rows = [
                connection.execute(
                    f"select {select} from {side}.{schema}.{table} order by {order}"
                ).fetchall()
                for side in ("before_retention", "after_retention")
            ]
            if len(rows[0]) != len(rows[1]):
                differences[f"{schema}.{table}"] = f"{len(rows[0])} rows, then {len(rows[1])}"
                continue
            for old, new in zip(*rows, strict=True):
                if not all(_same(a, b) for a, b in zip(old, new, strict=True)):
                    differences[f"{schema}.{table}"] = f"{old} became {new}"
                    break
    return differences


# mart: (key columns, the suppression flag, the columns it hides)
HIDE_MORE_MARTS = {
    "mart_collection_advice": (
        ("title_id", "from_branch_code", "to_branch_code"),
        "holds_suppressed",
        ("holds_by_van", "hold_patrons"),
    ),
    "mart_scenario_run_year": (
        ("year", "municipality_code", "metric"),
        "is_suppressed",
        ("metric_value",),
    ),
}


def _rows_by_key(warehouse: Path, mart: str, key: tuple[str, ...]) -> dict[tuple, dict]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        result = connection.execute(f"select * from main.{mart}")
        names = [column[0] for column in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    return {tuple(row[k] for k in key): row for row in rows}


@pytest.mark.parametrize("mart", sorted(HIDE_MORE_MARTS))
def test_what_counts_people_itself_can_only_hide_more(retention: Retention, mart: str) -> None:
    """The same rows and the same figures, but that a figure published before may be
    hidden now; one hidden before stays hidden."""
    key, flag, hidden = HIDE_MORE_MARTS[mart]
    before = _rows_by_key(retention.before, mart, key)
    after = _rows_by_key(retention.settings.warehouse_path, mart, key)
    assert before.keys() == after.keys()
    for row_key, old in before.items():
        new = after[row_key]
        for column in old.keys() - {flag, *hidden}:
            assert _same(old[column], new[column]), (row_key, column, old[column], new[column])
        if new[flag]:
            assert all(new[column] is None for column in hidden), row_key
        else:
            assert not old[flag], row_key
            assert all(_same(old[c], new[c]) for c in hidden), row_key


def test_every_mart_is_the_same_row_for_row(retention: Retention) -> None:
    assert differing_tables(retention.before, retention.settings.warehouse_path) == {}
    with duckdb.connect(str(retention.settings.warehouse_path), read_only=True) as connection:
        # ...and that took the frozen counts: from the keys alone, November 2024 and the
        # year 2024 would now count (far) fewer borrowers
        frozen, from_keys = connection.execute(
            "select sum(live.borrowers), sum(keyed.borrowers) "
            "from intermediate.int_equity_loans as live "
            "join intermediate.int_equity_loans_keyed as keyed "
            "using (municipality_code, period_type, period_start) "
            "where live.period_start < ?",
            [CUTOFF],
        ).fetchone()
        marts = connection.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' "
            "and table_name like 'mart_%'"
        ).fetchone()[0]
    assert frozen > from_keys
    assert marts >= 10


def test_a_second_run_changes_nothing(retention: Retention) -> None:
    settings = retention.settings
    files = _mtimes(settings.landing_path)
    warehouse_time = settings.warehouse_path.stat().st_mtime_ns
    result = dg.materialize(
        [patron_keys],
        resources={"settings": settings},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    [materialisation] = result.asset_materializations_for_node("retention__patron_keys")
    metadata = {key: value.value for key, value in materialisation.metadata.items()}
    assert metadata["cutoff"] == CUTOFF.isoformat()
    assert (metadata["files_rewritten"], metadata["keys_cleared"]) == (0, 0)
    assert (metadata["warehouse_keys_cleared"], metadata["warehouse_rebuilt"]) == (0, False)
    assert _mtimes(settings.landing_path) == files
    assert settings.warehouse_path.stat().st_mtime_ns == warehouse_time


# What a full refresh could change: the facts (rebuilt from a landing without the keys),
# everything built on them, and what the frozen counts are kept in (which it must leave
# alone). The rest does not read a patron key; under `make stress` the whole warehouse is
# built again, tests and all.
FULL_REFRESH_SELECTION = ["fct_loans+", "fct_holds+", "tag:retention"]


def test_a_full_refresh_afterwards_keeps_every_mart(retention: Retention, tmp_path: Path) -> None:
    warehouse = tmp_path / "full-refresh.duckdb"
    shutil.copyfile(retention.settings.warehouse_path, warehouse)
    settings = retention.settings.model_copy(update={"warehouse": warehouse})
    output: list[str] = []
    if STRESS:
        arguments = ["build", "--full-refresh"]
    else:
        arguments = ["run", "--full-refresh", "--select", *FULL_REFRESH_SELECTION]
    run_dbt(arguments, settings, log=output.append, **retention.dbt_paths)
    assert any("ERROR=0" in line for line in output), output[-20:]
    assert differing_tables(retention.before, warehouse) == {}
    frozen = "select count(*) from retention.retained_equity_loan_people"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        after = connection.execute(frozen).fetchone()[0]
    with duckdb.connect(str(retention.settings.warehouse_path), read_only=True) as connection:
        assert connection.execute(frozen).fetchone()[0] == after > 0
