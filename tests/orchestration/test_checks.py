"""Every Great Expectations check, fed bad data: it fails and shows the failing values.

Each test breaks one thing in a copy of the session run's landing or warehouse and runs
the same evaluation the Dagster check runs (orchestration/checks/). The good data passes
them all (test_pipeline.py); here each must turn red for the right reason.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.contract import ALL_TABLES, TABLES, quarantine_table
from orchestration.checks import landing as landing_checks
from orchestration.checks.marts import (
    HOLDS,
    LOANS,
    MONTH_MART,
    PAIR_MONTH_MART,
    PAIR_YEAR_MART,
    SMALL_COUNT_COLUMNS,
    TRANSPORTS,
    YEAR_MART,
    mart_evaluators,
)
from orchestration.dbt_project import BibblaDbtTranslator, load_dbt_project, models
from privacy.rules import people_counts, suppression_threshold
from tests.orchestration.conftest import Copy, PipelineRun

pytestmark = pytest.mark.slow


def failing_text(result) -> str:
    assert not result.passed, "the check passed on bad data"
    assert "failing_values" in result.metadata
    return json.dumps(result.metadata["failing_values"].value, default=str)


def rewrite(path: Path, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    frame = pl.read_parquet(path, hive_partitioning=False)
    change(frame).write_parquet(path)


def current_file(copy: Copy, table: str) -> Path:
    """The file a reader takes as current: newest snapshot, reference file, last events."""
    kind = TABLES[table].kind
    folder = copy.landing / table
    if kind == "reference":
        return folder / "reference.parquet"
    files = sorted(folder.glob("date=*/*.parquet"))
    if kind == "snapshot":
        newest = max(path.parent.name for path in files)
        return next(path for path in files if path.parent.name == newest)
    return files[-1]


# ---------------------------------------------------------------- landing: event ids


def _duplicate(copy: Copy) -> str:
    original = current_file(copy, "circulation_event")
    day = copy.landing / "circulation_event" / "date=2023-12-31"  # before the first event
    day.mkdir()
    shutil.copy2(original, day / original.name)
    return "to_be_between(column=copies"


def _reverse(copy: Copy) -> str:
    rewrite(current_file(copy, "circulation_event"), lambda f: f.reverse())
    return "to_be_in_set(column=increasing"


def _outside_range(copy: Copy) -> str:
    path = current_file(copy, "circulation_event")
    prefix, first, last = path.stem.rsplit("-", 2)
    width = len(first)
    shifted = f"{prefix}-{int(first) + 10**6:0{width}d}-{int(last) + 10**6:0{width}d}.parquet"
    path.rename(path.with_name(shifted))
    return "column_B=batch_first"


def _lost(copy: Copy) -> str:
    rewrite(current_file(copy, "circulation_event"), lambda f: f.slice(1))
    return "sum_to_be_between(column=rows"


def _repeated_in_its_file(copy: Copy) -> str:
    # the file's last event once more at its end: the ids no longer increase, and one is
    # there twice (a landing's files are checked as written, before de-duplication)
    rewrite(current_file(copy, "circulation_event"), lambda f: pl.concat([f, f.tail(1)]))
    return "to_be_between(column=copies"


def _beyond_the_watermark(copy: Copy) -> str:
    # the last event's id raised past the feed's watermark (and so past its batch's range)
    rewrite(
        current_file(copy, "circulation_event"),
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) == pl.len() - 1)
            .then(pl.col("id") + 10**9)
            .otherwise(pl.col("id"))
            .alias("id")
        ),
    )
    return "to_be_between(column=last_id"


@pytest.mark.parametrize(
    "breaks",
    [_duplicate, _reverse, _outside_range, _lost, _repeated_in_its_file, _beyond_the_watermark],
    ids=lambda f: f.__name__[1:],
)
def test_event_ids_unique_and_increasing(pipeline_copy: Copy, breaks) -> None:
    expectation = breaks(pipeline_copy)
    result = landing_checks.evaluate_event_ids(pipeline_copy.settings)
    assert expectation in failing_text(result)


# ---------------------------------------------------------------- landing: files


def _truncated(copy: Copy) -> tuple[str, str | None, str]:
    path = current_file(copy, "circulation_event")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    return path.name, None, "cannot be read"


def _retyped(copy: Copy) -> tuple[str, str | None, str]:
    path = current_file(copy, "circulation_event")
    rewrite(path, lambda f: f.with_columns(pl.col("item_id").cast(pl.Utf8)))
    return path.name, "item_id", "the contract says"


def _column_dropped(copy: Copy) -> tuple[str, str | None, str]:
    path = current_file(copy, "circulation_event")
    rewrite(path, lambda f: f.drop("branch_code"))
    return path.name, "branch_code", "column is missing"


@pytest.mark.parametrize(
    "breaks", [_truncated, _retyped, _column_dropped], ids=lambda f: f.__name__[1:]
)
def test_files_keep_the_contract(pipeline_copy: Copy, breaks) -> None:
    """A malformed landing file fails the check with the file and the field named."""
    name, field, problem = breaks(pipeline_copy)
    result = landing_checks.evaluate_files(pipeline_copy.settings, "circulation_event")
    failing = result.metadata["failing_values"].value
    assert not result.passed
    assert any(
        name in f["file"] and f["field"] == field and problem in f["problem"] for f in failing
    ), failing


def test_a_history_that_does_not_read_back_fails_the_files_check(pipeline_copy: Copy) -> None:
    """A history file saying `new` of an item the state already holds (as a copy of an
    older file put under a later date would) fails, naming the file."""
    files = sorted((pipeline_copy.landing / "item").glob("date=*/changes-*.parquet"))
    first, newest = files[0], files[-1]
    again = pl.read_parquet(first, hive_partitioning=False).head(3)
    rewrite(newest, lambda f: pl.concat([f, again]).unique(subset="id", keep="last"))
    result = landing_checks.evaluate_files(pipeline_copy.settings, "item")
    failing = result.metadata["failing_values"].value
    assert not result.passed
    assert any(
        newest.name in f["file"] and "new rows already in the state before it" in f["problem"]
        for f in failing
    ), failing
    assert landing_checks.evaluate_files(pipeline_copy.settings, "branch").passed


# ---------------------------------------------------------------- landing: loan times


def test_loans_returned_after_checkout(pipeline_copy: Copy) -> None:
    glob = str(pipeline_copy.landing / "circulation_event" / "*" / "*.parquet")
    with duckdb.connect() as connection:
        loan_id, path, checked_out = connection.execute(
            f"""
            with events as (select * from read_parquet('{glob}', filename = true))
            select checkin.loan_id, checkin.filename, checkout.occurred_at
            from events as checkin
            join events as checkout
              on checkout.loan_id = checkin.loan_id and checkout.type = 'checkout'
            where checkin.type = 'checkin'
            order by checkin.id desc limit 1
            """
        ).fetchone()

    def before_checkout(frame: pl.DataFrame) -> pl.DataFrame:
        earlier = pl.lit(checked_out).dt.replace_time_zone("UTC").dt.offset_by("-1d")
        is_it = (pl.col("loan_id") == loan_id) & (pl.col("type") == "checkin")
        return frame.with_columns(
            pl.when(is_it).then(earlier).otherwise(pl.col("occurred_at")).alias("occurred_at")
        )

    rewrite(Path(path), before_checkout)
    text = failing_text(landing_checks.evaluate_loan_times(pipeline_copy.settings))
    assert "column_A=returned_at, column_B=checked_out_at" in text
    assert f'"loan_id": "{loan_id}"' in text


# ---------------------------------------------------------------- landing: codes known


@pytest.mark.parametrize("table", sorted(landing_checks.CODE_COLUMNS))
def test_codes_known(pipeline_copy: Copy, table: str) -> None:
    column, _ = landing_checks.CODE_COLUMNS[table][0]
    path = current_file(pipeline_copy, table)
    if table == "circulation_event":
        # the newest file with a branch in it
        path = next(
            p
            for p in sorted(path.parent.parent.glob("date=*/*.parquet"), reverse=True)
            if pl.read_parquet(p, hive_partitioning=False)[column].drop_nulls().len()
        )

    def unknown_code(frame: pl.DataFrame) -> pl.DataFrame:
        first = frame.with_row_index().filter(pl.col(column).is_not_null())["index"][0]
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == first)
            .then(pl.lit("XX99"))
            .otherwise(pl.col(column))
            .alias(column)
        )

    rewrite(path, unknown_code)
    text = failing_text(landing_checks.evaluate_codes(pipeline_copy.settings, table))
    assert "XX99" in text and column in text


# ---------------------------------------------------------------- landing: personal data


@pytest.mark.parametrize("table", [table.name for table in ALL_TABLES])
def test_no_personal_data_columns(pipeline_copy: Copy, table: str) -> None:
    rewrite(
        current_file(pipeline_copy, table),
        lambda frame: frame.with_columns(pl.lit("astrid@example.se").alias("email")),
    )
    text = failing_text(landing_checks.evaluate_personal_data(pipeline_copy.settings, table))
    assert '"column_name": "email"' in text


def test_patron_keys_are_pseudonyms(pipeline_copy: Copy) -> None:
    rewrite(
        current_file(pipeline_copy, "patron"),
        lambda frame: frame.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.lit("4711"))
            .otherwise(pl.col("patron_key"))
            .alias("patron_key")
        ),
    )
    text = failing_text(landing_checks.evaluate_personal_data(pipeline_copy.settings, "patron"))
    assert "4711" in text


def test_event_details_hold_no_personal_keys(pipeline_copy: Copy) -> None:
    rewrite(
        current_file(pipeline_copy, "circulation_event"),
        lambda frame: frame.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.lit('{"phone": "+46 70 111 22 33"}'))
            .otherwise(pl.col("details"))
            .alias("details")
        ),
    )
    text = failing_text(
        landing_checks.evaluate_personal_data(pipeline_copy.settings, "circulation_event")
    )
    assert '"key": "phone"' in text


# ---------------------------------------------------------------- landing: quarantine


@pytest.mark.parametrize("table", landing_checks.QUARANTINED_TABLES)
def test_quarantine_empty(pipeline_copy: Copy, table: str) -> None:
    layout = quarantine_table(TABLES[table])
    row = pl.DataFrame(
        {column: [None] for column in layout.column_names}, schema=layout.schema
    ).with_columns(pl.lit("branch_code is not a known branch").alias("quarantine_reason"))
    folder = pipeline_copy.landing / "_quarantine" / table
    folder.mkdir(parents=True, exist_ok=True)
    row.write_parquet(folder / "part-test.parquet")
    result = landing_checks.evaluate_quarantine(pipeline_copy.settings, table)
    assert "branch_code is not a known branch" in failing_text(result)
    assert result.metadata["rows_quarantined"].value == 1


# ---------------------------------------------------------------- the marts


@pytest.fixture(scope="module")
def evaluators(pipeline_run: PipelineRun):
    project = load_dbt_project(pipeline_run.settings)
    manifest = json.loads(project.manifest_path.read_text())
    return mart_evaluators(models(manifest, BibblaDbtTranslator()))


def change_warehouse(copy: Copy, *statements: str) -> None:
    with duckdb.connect(str(copy.settings.warehouse_path)) as connection:
        for statement in statements:
            connection.execute(statement)


def evaluate(evaluators, copy: Copy, model: str, check: str):
    return evaluators[(model, check)](copy.settings)


ONE_ROW = "rowid = (select min(rowid) from {table})"


@pytest.mark.parametrize(
    ("model", "assignment", "expectation"),
    [
        (MONTH_MART, "loans_per_capita = 2.5", "loans_per_capita_per_year"),  # 30 a year
        (YEAR_MART, "loans_per_capita = 0.1", "loans_per_capita_per_year"),
        (MONTH_MART, "stock_per_capita = 0.1", "stock_per_capita_checked"),
        (MONTH_MART, "active_borrower_share = 1.5", "active_borrower_share"),
        (YEAR_MART, "hold_fill_rate = -0.2", "hold_fill_rate"),
        (MONTH_MART, "transports_per_1000 = -1", "transports_per_1000"),
        (
            MONTH_MART,
            "accessible_stock_per_capita = stock_per_capita / 2",
            "column_A=accessible_stock_per_capita",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_per_capita_within_bounds(
    evaluators, pipeline_copy: Copy, model: str, assignment: str, expectation: str
) -> None:
    change_warehouse(
        pipeline_copy,
        f"update {model} set {assignment}, is_complete_period = true, "
        f"small_numbers_flag = false where {ONE_ROW.format(table=model)}",
    )
    text = failing_text(evaluate(evaluators, pipeline_copy, model, "per_capita_within_bounds"))
    assert expectation in text


def test_every_member_present_every_month(evaluators, pipeline_copy: Copy) -> None:
    with duckdb.connect(str(pipeline_copy.settings.warehouse_path)) as connection:
        code, month = connection.execute(
            f"select municipality_code, period_start from {MONTH_MART} "
            "where is_member order by period_start desc, municipality_code limit 1"
        ).fetchone()
        connection.execute(
            f"delete from {MONTH_MART} where municipality_code = ? and period_start = ?",
            [code, month],
        )
    result = evaluate(evaluators, pipeline_copy, MONTH_MART, "every_member_present_every_month")
    text = failing_text(result)
    assert code in text and str(month)[:10] in text


@pytest.mark.parametrize("model", [LOANS, HOLDS, TRANSPORTS])
def test_fact_row_counts_match_landing(evaluators, pipeline_copy: Copy, model: str) -> None:
    change_warehouse(pipeline_copy, f"delete from {model} where {ONE_ROW.format(table=model)}")
    text = failing_text(evaluate(evaluators, pipeline_copy, model, "row_counts_match_landing"))
    assert "column_A=landing_rows, column_B=mart_rows" in text


def test_mart_loans_match_the_facts(evaluators, pipeline_copy: Copy) -> None:
    change_warehouse(
        pipeline_copy,
        f"update {MONTH_MART} set loans = loans + 1 where rowid = "
        f"(select min(rowid) from {MONTH_MART} where loans is not null)",
    )
    text = failing_text(evaluate(evaluators, pipeline_copy, MONTH_MART, "row_counts_match_landing"))
    assert "column_A=mart_loans, column_B=fact_loans" in text


def test_fact_loans_returned_after_checkout(evaluators, pipeline_copy: Copy) -> None:
    change_warehouse(
        pipeline_copy,
        f"update {LOANS} set returned_at = checked_out_at - interval 1 day where loan_id = "
        f"(select min(loan_id) from {LOANS} where returned_at is not null)",
    )
    result = evaluate(evaluators, pipeline_copy, LOANS, "loans_returned_after_checkout")
    assert "column_A=returned_at" in failing_text(result)


@pytest.mark.parametrize("model", [MONTH_MART, YEAR_MART, PAIR_MONTH_MART, PAIR_YEAR_MART])
def test_small_counts_suppressed(evaluators, pipeline_copy: Copy, model: str) -> None:
    """Every published count resting on people is checked: each one set to a small count
    is named among the failures."""
    _keys, counted = SMALL_COUNT_COLUMNS[model]
    if model in (MONTH_MART, YEAR_MART):
        assert list(counted) == list(people_counts()) and len(counted) == 12
    small = suppression_threshold() - 1
    change_warehouse(
        pipeline_copy,
        f"update {model} set {', '.join(f'{c} = {small}' for c in counted)} "
        f"where {ONE_ROW.format(table=model)}",
    )
    text = failing_text(evaluate(evaluators, pipeline_copy, model, "small_counts_suppressed"))
    failed = {failure["expectation"] for failure in json.loads(text)}
    assert [c for c in counted if not any(f"(column={c}," in e for e in failed)] == []


@pytest.mark.parametrize(
    ("model", "statement", "shown"),
    [
        (MONTH_MART, "alter table {model} add column email varchar default 'a@b.se'", "email"),
        (YEAR_MART, "alter table {model} add column patron_key varchar", "patron_key"),
        ("dim_municipality", "alter table {model} add column birth_date date", "birth_date"),
        (
            LOANS,
            "update {model} set patron_key = '4711' where loan_id = (select min(loan_id) "
            "from {model})",
            "4711",
        ),
    ],
    ids=["email", "pseudonym_published", "birth_date", "raw_patron_key"],
)
def test_marts_hold_no_personal_data(
    evaluators, pipeline_copy: Copy, model: str, statement: str, shown: str
) -> None:
    change_warehouse(pipeline_copy, statement.format(model=model))
    text = failing_text(evaluate(evaluators, pipeline_copy, model, "no_personal_data"))
    assert shown in text


def test_every_great_expectations_check_has_a_bad_data_test(evaluators) -> None:
    """The suites above cover every GX check the graph defines (dbt's tests are dbt's)."""
    tested_landing = {
        "files_keep_the_contract",
        "event_ids_unique_and_increasing",
        "loans_returned_after_checkout",
        "codes_known",
        "no_personal_data",
        "quarantine_empty",
    }
    defined_landing = {
        spec.name for check in landing_checks.landing_checks() for spec in check.check_specs
    }
    assert defined_landing == tested_landing
    tested_marts = {
        "per_capita_within_bounds",
        "every_member_present_every_month",
        "row_counts_match_landing",
        "loans_returned_after_checkout",
        "small_counts_suppressed",
        "no_personal_data",
    }
    assert {check for _, check in evaluators} == tested_marts
