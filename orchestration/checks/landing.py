"""Great Expectations suites on the landing tables, as Dagster asset checks.

Blocking (a failure stops the warehouse from being built on the landing in that run):
- `event_ids_unique_and_increasing` on `landing/circulation_event`: the files as written,
  before any de-duplication: every id once, increasing within each file and from batch to
  batch, inside the id range its file name records, and exactly `1..watermark` (landed and
  quarantined together; the lending core's ids have no gaps);
- `loans_returned_after_checkout` on `landing/circulation_event`: per loan, one checkout;
  renewals, due time and return at or after the checkout, the return after the last renewal;
- `codes_known` on every table that names a branch or municipality: each code is in the
  newest `branch` / `municipality` snapshot;
- `no_personal_data` on every landing table: the files hold exactly the contract's columns
  (none of the personal ones), every `patron_key` is a 64-hex-digit pseudonym, and no
  event's `details` has a personal key.

- `files_keep_the_contract` on every landing table: each file can be read and has the
  contract's columns and types, and a history table's changes read back consistently
  (ingestion.verify.check_histories; not a GX suite: the contract is ingestion's own code).

Not blocking but failing (severity ERROR): `quarantine_empty` on every table with a
quarantine. A quarantined row is kept aside with its reason; the warehouse is still right
about the rows that landed, so it is built, and the check stays red until someone looks.
"""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd
import polars as pl
from dagster import AssetCheckExecutionContext

from bibbla.config import Settings
from ingestion import check_feed_landing, check_histories, check_landing_files
from ingestion.contract import (
    ALL_TABLES,
    CIRCULATION_EVENT,
    EVENT_TABLES,
    SNAPSHOT_TABLES,
    TABLES,
)
from ingestion.landing import BATCH_FILE
from orchestration.checks import gx
from orchestration.checks.reading import Reader
from orchestration.dbt_project import landing_key
from privacy.rules import (
    PATRON_NAME,
    PERSONAL_COLUMN_NAMES,
    PERSONAL_COLUMN_PATTERN,
    PERSONAL_DETAIL_KEYS,
    PSEUDONYM_PATTERN,
)

EVENTS = CIRCULATION_EVENT.name
EVENT_KEY = landing_key(EVENTS)


# Which columns name a branch or a municipality, per landing table.
BRANCH, MUNICIPALITY = "branch", "municipality"
CODE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "circulation_event": (
        ("branch_code", BRANCH),
        ("from_branch_code", BRANCH),
        ("to_branch_code", BRANCH),
    ),
    "membership": (("municipality_code", MUNICIPALITY),),
    "branch": (("municipality_code", MUNICIPALITY),),
    "van_route": (("municipality_a", MUNICIPALITY), ("municipality_b", MUNICIPALITY)),
    "item": (("home_branch_code", BRANCH), ("current_branch_code", BRANCH)),
    "patron": (("home_municipality_code", MUNICIPALITY), ("home_branch_code", BRANCH)),
    "open_loan": (("branch_code", BRANCH),),
    "active_hold": (("pickup_branch_code", BRANCH),),
    "open_transport": (("from_branch_code", BRANCH), ("to_branch_code", BRANCH)),
    "population": (("municipality_code", MUNICIPALITY),),
    "population_by_age": (("municipality_code", MUNICIPALITY),),
    "goal_milestone": (("municipality_code", MUNICIPALITY),),
    "kb_library_statistics": (("municipality_code", MUNICIPALITY),),
}
QUARANTINED_TABLES = tuple(table.name for table in (*EVENT_TABLES, *SNAPSHOT_TABLES))


def per_table_check(
    specs: list[dg.AssetCheckSpec],
    evaluate: Callable[[Settings, str], dg.AssetCheckResult],
) -> dg.AssetChecksDefinition:
    """One check (the specs' shared name) on several landed tables: each selected table is
    judged by `evaluate(settings, table)`, so a run can check any subset of them."""

    @dg.multi_asset_check(specs=specs, can_subset=True, name=specs[0].name)
    def check(
        context: AssetCheckExecutionContext, settings: dg.ResourceParam[Settings]
    ) -> Iterator[dg.AssetCheckResult]:
        for check_key in sorted(context.selected_asset_check_keys, key=str):
            yield evaluate(settings, check_key.asset_key.path[-1])

    return check


# ---------------------------------------------------------------- event ids


def _event_files(settings: Settings) -> list[tuple[Path, int, int, bool]]:
    """Every landed and quarantined event file with the batch range its name records."""
    root = settings.landing_path
    found = []
    for quarantined, folder, pattern in (
        (False, root / EVENTS, "date=*/part-*.parquet"),
        (True, root / "_quarantine" / EVENTS, "part-*.parquet"),
    ):
        for path in sorted(folder.glob(pattern)) if folder.exists() else []:
            match = BATCH_FILE.match(path.name)
            if match:
                found.append((path, int(match["first"]), int(match["last"]), quarantined))
    return found


def _event_file_summary(
    path: Path, root: Path, first: int, last: int, quarantined: bool
) -> tuple[dict, pl.Series, pl.DataFrame]:
    """One landed or quarantined event file, as the id check needs it: its rows, its
    first and last id, and the first id not above the one before it in the file (None if
    the ids increase throughout); and its ids, and its rows per database."""
    rows = pl.read_parquet(path, columns=["id", "database_id"], hive_partitioning=False)
    ids = rows["id"]
    not_above = ids.filter(ids.diff() <= 0)
    summary = {
        "file": str(path.relative_to(root)),
        "quarantined": quarantined,
        "batch_first": first,
        "batch_last": last,
        "rows": len(ids),
        "first_id": ids.min(),
        "last_id": ids.max(),
        "increasing": not_above.is_empty(),
        "first_not_increasing": None if not_above.is_empty() else not_above[0],
    }
    per_database = rows.group_by("database_id").agg(pl.len().alias("rows"))
    return summary, ids, per_database


_FILE_SCHEMA = {
    "file": pl.String,
    "quarantined": pl.Boolean,
    "batch_first": pl.Int64,
    "batch_last": pl.Int64,
    "rows": pl.Int64,
    "first_id": pl.Int64,
    "last_id": pl.Int64,
    "increasing": pl.Boolean,
    "first_not_increasing": pl.Int64,
}


def event_id_frames(settings: Settings) -> tuple[list[gx.Frame], dict]:
    """The landed and quarantined event files, before de-duplication (read with polars,
    file by file: the order inside each file is part of what is checked).

    What is per event is summed up per file (its rows, first and last id, whether its ids
    increase) or per id landed more than once, so GX validates a frame of one row per
    file, not one per event (6.75 M at full scale: some 5 s a night). Each id once,
    between 1 and the watermark and as many as the watermark: exactly 1..watermark."""
    gxe = gx.expectations()
    feed = check_feed_landing(settings)
    watermark = feed.watermark
    root = settings.landing_path
    summaries = [_event_file_summary(path, root, *rest) for path, *rest in _event_files(settings)]
    files = pl.DataFrame([summary for summary, _, _ in summaries], schema=_FILE_SCHEMA)
    names = [summary["file"] for summary, _, _ in summaries]
    # Every landed id with the index of its file (not its name: millions of rows), and
    # the rows per database, counted file by file.
    ids = (
        pl.concat(
            [
                pl.DataFrame({"id": file_ids}).with_columns(
                    pl.lit(index, pl.UInt32).alias("file_index")
                )
                for index, (_, file_ids, _) in enumerate(summaries)
            ]
        )
        if summaries
        else pl.DataFrame(schema={"id": pl.Int64, "file_index": pl.UInt32})
    )
    databases = (
        pl.concat([per_database for _, _, per_database in summaries])
        .group_by("database_id")
        .agg(pl.sum("rows"))
        .sort("database_id")
        if summaries
        else pl.DataFrame(schema={"database_id": pl.String, "rows": pl.UInt32})
    )
    del summaries
    # The ids in more than one row, with how often and where (none in a good landing).
    copies = (
        ids.filter(pl.col("id").is_duplicated())
        .group_by("id")
        .agg(pl.len().alias("copies"), pl.col("file_index").sort())
        .sort("id")
    )
    del ids
    copies = copies.with_columns(
        pl.col("file_index")
        .map_elements(lambda found: ", ".join(names[i] for i in found), return_dtype=pl.String)
        .alias("files")
    ).drop("file_index")
    batches = (
        files.select("batch_first", "batch_last")
        .unique()
        .sort("batch_first", "batch_last")
        .with_columns(pl.col("batch_last").shift(1).alias("previous_batch_last"))
    )
    frames = [
        gx.Frame(
            "event_files",
            files.sort("file").to_pandas(),
            [
                gxe.ExpectColumnValuesToBeInSet(column="increasing", value_set=[True]),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="first_id", column_B="batch_first", or_equal=True
                ),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="batch_last", column_B="last_id", or_equal=True
                ),
                gxe.ExpectColumnValuesToBeBetween(column="first_id", min_value=1),
                gxe.ExpectColumnValuesToBeBetween(column="last_id", max_value=watermark),
                gxe.ExpectColumnSumToBeBetween(
                    column="rows", min_value=watermark, max_value=watermark
                ),
            ],
            ids=("file", "first_id", "last_id", "first_not_increasing"),
            note="one row per landed or quarantined event file, before de-duplication",
        ),
        gx.Frame(
            "event_ids_landed_more_than_once",
            copies.to_pandas(),
            [gxe.ExpectColumnValuesToBeBetween(column="copies", max_value=1)],
            ids=("id", "copies", "files"),
            note="the ids found in more than one row of the files above (none in a good landing)",
        ),
        gx.Frame(
            "event_batches",
            batches.to_pandas(),
            [
                gxe.ExpectColumnValuesToBeUnique(column="batch_first"),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="batch_first",
                    column_B="previous_batch_last",
                    or_equal=False,
                    ignore_row_if="either_value_is_missing",
                ),
            ],
            ids=("batch_first", "batch_last", "previous_batch_last"),
        ),
        gx.Frame(
            "event_databases",
            databases.to_pandas(),
            [
                gxe.ExpectColumnValuesToBeInSet(
                    column="database_id", value_set=[feed.database_id] if feed.database_id else []
                )
            ],
            ids=("database_id", "rows"),
        ),
    ]
    return frames, feed.to_dict()


def evaluate_event_ids(settings: Settings) -> dg.AssetCheckResult:
    frames, feed = event_id_frames(settings)
    return gx.check_result(gx.run(frames), extra={"feed": dg.MetadataValue.json(feed)})


@dg.asset_check(
    asset=EVENT_KEY,
    name="event_ids_unique_and_increasing",
    blocking=True,
    description="Landed and quarantined event ids, before any de-duplication: each id once, "
    "increasing within a file and from batch to batch, within the batch's recorded range, "
    "exactly 1..watermark, all of the landing's one database.",
)
def event_ids_unique_and_increasing(settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
    return evaluate_event_ids(settings)


# ---------------------------------------------------------------- loan times


def loan_time_frames(settings: Settings) -> list[gx.Frame]:
    gxe = gx.expectations()
    with Reader(settings) as reader:
        loans = reader.df(
            f"""
            select
                loan_id,
                count(*) filter (where type = 'checkout') as checkouts,
                count(*) filter (where type = 'checkin') as checkins,
                min(occurred_at) filter (where type = 'checkout') as checked_out_at,
                min(due_at) filter (where type = 'checkout') as due_at,
                max(occurred_at) filter (where type = 'renew') as last_renewed_at,
                max(occurred_at) filter (where type = 'checkin') as returned_at
            from {reader.table(EVENTS)}
            where loan_id is not null and type in ('checkout', 'renew', 'checkin')
            group by loan_id
            """
        )

    def after(later: str, earlier: str):
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"
        )

    return [
        gx.Frame(
            "loans",
            loans,
            [
                gxe.ExpectColumnValuesToBeBetween(column="checkouts", min_value=1, max_value=1),
                gxe.ExpectColumnValuesToBeBetween(column="checkins", min_value=0, max_value=1),
                after("returned_at", "checked_out_at"),
                after("due_at", "checked_out_at"),
                after("last_renewed_at", "checked_out_at"),
                after("returned_at", "last_renewed_at"),
            ],
            ids=("loan_id",),
            note="one row per loan in the landed event feed",
        )
    ]


def evaluate_loan_times(settings: Settings) -> dg.AssetCheckResult:
    return gx.check_result(gx.run(loan_time_frames(settings)))


@dg.asset_check(
    asset=EVENT_KEY,
    name="loans_returned_after_checkout",
    blocking=True,
    description="Per loan in the landed feed: checked out once; renewed, due and returned "
    "at or after the checkout; returned after its last renewal.",
)
def loans_returned_after_checkout(settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
    return evaluate_loan_times(settings)


# ---------------------------------------------------------------- codes known


def known_codes(reader: Reader) -> dict[str, list[str]]:
    return {
        BRANCH: [
            row[0]
            for row in reader.connection.sql(
                f"select distinct code from {reader.current('branch')} where code is not null"
            ).fetchall()
        ],
        MUNICIPALITY: [
            row[0]
            for row in reader.connection.sql(
                f"select distinct code from {reader.current('municipality')} where code is not null"
            ).fetchall()
        ],
    }


def code_frames(settings: Settings, table: str) -> list[gx.Frame]:
    gxe = gx.expectations()
    frames = []
    with Reader(settings) as reader:
        known = known_codes(reader)
        source = reader.current(table)
        for kind in (BRANCH, MUNICIPALITY):
            columns = [column for column, of in CODE_COLUMNS[table] if of == kind]
            if not columns:
                continue
            selects = " union all ".join(
                f"select '{column}' as code_column, {column} as code, count(*) as rows "
                f"from {source} where {column} is not null group by all"
                for column in columns
            )
            codes = reader.df(f"select * from ({selects}) order by 1, 2")
            frames.append(
                gx.Frame(
                    f"{table}_{kind}_codes",
                    codes,
                    [gxe.ExpectColumnValuesToBeInSet(column="code", value_set=known[kind])],
                    ids=("code_column", "code", "rows"),
                    note=f"distinct {kind} codes of {table}, checked against the newest "
                    f"{kind} snapshot",
                )
            )
    return frames


def evaluate_codes(settings: Settings, table: str) -> dg.AssetCheckResult:
    return gx.check_result(
        gx.run(code_frames(settings, table)),
        asset_key=landing_key(table),
        check_name="codes_known",
    )


def _code_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name="codes_known",
            asset=landing_key(table),
            blocking=True,
            # The code lists come from these snapshots.
            additional_deps=[
                landing_key(kind) for kind in sorted({kind for _, kind in columns}) if kind != table
            ],
            description="Every "
            + " and ".join(sorted({kind for _, kind in columns}))
            + f" code in {', '.join(column for column, _ in columns)} is in the newest "
            "snapshot of the lending core's own list.",
        )
        for table, columns in CODE_COLUMNS.items()
    ]


codes_known = per_table_check(_code_specs(), evaluate_codes)


# ---------------------------------------------------------------- personal data


def personal_data_frames(settings: Settings, table: str) -> list[gx.Frame]:
    gxe = gx.expectations()
    contract = TABLES[table]
    # a `name` in a table about patrons would be a person's (privacy/rules.py)
    denied = sorted(PERSONAL_COLUMN_NAMES) + ([PATRON_NAME] if contract.about_patrons else [])
    with Reader(settings) as reader:
        columns = pd.DataFrame({"column_name": reader.landed_columns(table)})
        frames = [
            gx.Frame(
                f"{table}_columns",
                columns,
                [
                    gxe.ExpectColumnValuesToBeInSet(
                        column="column_name", value_set=contract.column_names
                    ),
                    gxe.ExpectColumnValuesToNotBeInSet(column="column_name", value_set=denied),
                    gxe.ExpectColumnValuesToNotMatchRegex(
                        column="column_name", regex=PERSONAL_COLUMN_PATTERN
                    ),
                ],
                ids=("column_name",),
                note="the columns of every landed file of the table",
            )
        ]
        if "patron_key" in contract.column_names and reader.has_files(table):
            keys = reader.df(
                f"select patron_key, count(*) as rows from {reader.current(table)} "
                "where patron_key is not null group by all"
            )
            frames.append(
                gx.Frame(
                    f"{table}_pseudonyms",
                    keys,
                    [
                        gxe.ExpectColumnValuesToMatchRegex(
                            column="patron_key", regex=PSEUDONYM_PATTERN
                        )
                    ],
                    ids=("patron_key", "rows"),
                    note="distinct patron keys (HMAC-SHA256 pseudonyms, never raw ids)",
                )
            )
        if table == EVENTS and reader.has_files(table):
            keys = reader.df(
                f"select key, count(*) as rows from (select unnest(json_keys(details)) as key "
                f"from {reader.table(table)} where details is not null) group by all"
            )
            frames.append(
                gx.Frame(
                    "event_detail_keys",
                    keys,
                    [
                        gxe.ExpectColumnValuesToNotBeInSet(
                            column="key", value_set=list(PERSONAL_DETAIL_KEYS)
                        ),
                        gxe.ExpectColumnValuesToNotMatchRegex(
                            column="key", regex=PERSONAL_COLUMN_PATTERN
                        ),
                    ],
                    ids=("key", "rows"),
                    note="the keys used in the events' details JSON",
                )
            )
    return frames


def evaluate_personal_data(settings: Settings, table: str) -> dg.AssetCheckResult:
    return gx.check_result(
        gx.run(personal_data_frames(settings, table)),
        asset_key=landing_key(table),
        check_name="no_personal_data",
    )


no_personal_data = per_table_check(
    [
        dg.AssetCheckSpec(
            name="no_personal_data",
            asset=landing_key(table.name),
            blocking=True,
            description="The landed files hold exactly the contract's columns, none personal; "
            "patron keys are pseudonyms; no personal key in event details.",
        )
        for table in ALL_TABLES
    ],
    evaluate_personal_data,
)


# ---------------------------------------------------------------- quarantine


def quarantine_frames(settings: Settings, table: str) -> list[gx.Frame]:
    gxe = gx.expectations()
    with Reader(settings) as reader:
        source = reader.quarantine(table)
        if source is None:
            reasons = pd.DataFrame({"quarantine_reason": pd.Series(dtype=str), "rows": []})
        else:
            reasons = reader.df(
                f"select quarantine_reason, count(*) as rows from {source} group by all "
                "order by rows desc"
            )
    return [
        gx.Frame(
            f"{table}_quarantine",
            reasons,
            [gxe.ExpectColumnValuesToBeInSet(column="quarantine_reason", value_set=[])],
            ids=("quarantine_reason", "rows"),
            note="quarantined rows by reason (landing/_quarantine/<table>/)",
        )
    ]


def evaluate_quarantine(settings: Settings, table: str) -> dg.AssetCheckResult:
    frames = quarantine_frames(settings, table)
    quarantined = int(frames[0].data["rows"].sum()) if len(frames[0].data) else 0
    return gx.check_result(
        gx.run(frames),
        asset_key=landing_key(table),
        check_name="quarantine_empty",
        extra={"rows_quarantined": quarantined},
    )


quarantine_empty = per_table_check(
    [
        dg.AssetCheckSpec(
            name="quarantine_empty",
            asset=landing_key(table),
            blocking=False,
            description="No row of the table is in quarantine (landing/_quarantine/); the "
            "failing values are the reasons with their counts.",
        )
        for table in QUARANTINED_TABLES
    ],
    evaluate_quarantine,
)


# ---------------------------------------------------------------- files and the contract


def evaluate_files(settings: Settings, table: str) -> dg.AssetCheckResult:
    """Every landed file of the table readable, with the contract's columns and types; a
    history also reads back as a consistent sequence of changes."""
    problems = check_landing_files(settings, [table])
    if TABLES[table].is_history and not problems:
        problems = check_histories(settings, [table])
    return dg.AssetCheckResult(
        asset_key=landing_key(table),
        check_name="files_keep_the_contract",
        passed=not problems,
        metadata={
            "files_with_problems": len({problem.path for problem in problems}),
            "failing_values": dg.MetadataValue.json(
                [{"file": p.path, "field": p.field, "problem": p.problem} for p in problems[:50]]
            ),
        },
    )


files_keep_the_contract = per_table_check(
    [
        dg.AssetCheckSpec(
            name="files_keep_the_contract",
            asset=landing_key(table.name),
            blocking=True,
            description="Every landed file can be read and holds the contract's columns with "
            "the contract's types, in a date partition where the table is partitioned; a "
            "broken file is named with its field before anything is built on it."
            + (
                " The history reads back consistently: each key once per date, new only "
                "for a key not in the state before, changed and deleted only for one in it."
                if table.is_history
                else ""
            ),
        )
        for table in ALL_TABLES
    ],
    evaluate_files,
)


def landing_checks() -> Sequence[dg.AssetChecksDefinition]:
    return [
        files_keep_the_contract,
        event_ids_unique_and_increasing,
        loans_returned_after_checkout,
        codes_known,
        no_personal_data,
        quarantine_empty,
    ]
