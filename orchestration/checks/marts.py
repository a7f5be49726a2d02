"""Great Expectations suites on the marts the reports read, as Dagster asset checks.

All blocking: the report site is built only on marts that pass (it is downstream of them).

- `per_capita_within_bounds` (monthly and yearly equity marts): the stated bounds below;
- `every_member_present_every_month` (monthly equity mart): one row for every municipality
  that is a member (the landed membership timeline) in every month the landed feed covers;
- `row_counts_match_landing` (fct_loans, fct_holds, fct_transports and the monthly equity
  mart): per month, as many loans / holds / transports as the landing has checkout /
  hold_placed / transport_requested events; per municipality and month, the mart's loans
  equal the loans of its residents in fct_loans (suppressed cells aside);
- `loans_returned_after_checkout` (fct_loans): returned, due and initially due at or after
  the checkout; one row per loan;
- `small_counts_suppressed` (equity marts and the loans between municipalities): no published
  count resting on people is 1 to threshold-1 (in the equity marts every one of the dbt var
  `people_counts`; docs/metrics.md, "Small numbers");
- `no_personal_data` (every model under models/marts/): no personal column; the marts that
  are published as they are (`mart_*`, `dim_*`) carry no pseudonym either, and where a
  fact keeps `patron_key` it is a 64-hex-digit pseudonym.

The checks are defined for the models the dbt project has; `EXPECTED_MART_CHECKS` lists
what the reports need, and a test fails when one of them is missing from the graph.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence

import dagster as dg
from dagster import AssetCheckExecutionContext

from bibbla.config import Settings
from orchestration.checks import gx
from orchestration.checks.reading import Reader
from orchestration.dbt_project import Model, landing_key
from privacy.rules import (
    PERSONAL_COLUMN_NAMES,
    PERSONAL_COLUMN_PATTERN,
    PSEUDONYM_PATTERN,
    people_counts,
    small_counts,
    suppression_threshold,
)

MONTH_MART = "mart_equity_municipality_month"
YEAR_MART = "mart_equity_municipality_year"
PAIR_MONTH_MART = "mart_loans_between_municipalities_month"
PAIR_YEAR_MART = "mart_loans_between_municipalities_year"
LOANS, HOLDS, TRANSPORTS = "fct_loans", "fct_holds", "fct_transports"

# Stated bounds (docs/metrics.md; Swedish public libraries lend roughly 2-10 items a year per
# inhabitant and hold 2-6 items per inhabitant; outside these a figure is a unit or
# denominator error, not a fact). Applied to complete periods whose figures carry no
# small-numbers flag; loans per capita are annualised (x12) for months.
PER_CAPITA_BOUNDS: dict[str, tuple[float, float]] = {
    "loans_per_capita": (0.5, 20.0),
    "stock_per_capita": (0.5, 20.0),
}
SHARES = (
    "active_borrower_share",
    "shared_loan_share",
    "hold_fill_rate",
    "multi_municipality_borrower_share",
)
NON_NEGATIVE = (
    "renewals_per_capita",
    "accessible_stock_per_capita",
    "collection_turnover",
    "transports_per_1000",
    "open_hours_per_1000",
    "children_loans_per_child",
    "hold_wait_days_median",
    "hold_wait_days_p90",
)
# The counts of people (and of loans and holds resting on them) of the loans between
# municipalities.
PAIR_COUNTS = ("loans", "borrowers", "holds_filled", "hold_patrons")
# Each mart whose small counts are checked: its key columns and its counted columns (the
# equity marts': the dbt var people_counts, privacy/rules.py).
SMALL_COUNT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    MONTH_MART: (("municipality_code", "period_start"), tuple(people_counts())),
    YEAR_MART: (("municipality_code", "period_start"), tuple(people_counts())),
    PAIR_MONTH_MART: (
        ("owner_municipality_code", "borrower_municipality_code", "period_start"),
        PAIR_COUNTS,
    ),
    PAIR_YEAR_MART: (
        ("owner_municipality_code", "borrower_municipality_code", "period_start"),
        PAIR_COUNTS,
    ),
}
# Fact tables and the landed events that make their rows, by the month column of each.
FACT_EVENTS = {
    LOANS: ("checkout", "checkout_month"),
    HOLDS: ("hold_placed", "placed_month"),
    TRANSPORTS: ("transport_requested", "requested_month"),
}
# Published as they are: no pseudonym in them either.
PUBLISHED_PREFIXES = ("mart_", "dim_")

EXPECTED_MART_CHECKS = {
    (MONTH_MART, "per_capita_within_bounds"),
    (YEAR_MART, "per_capita_within_bounds"),
    (MONTH_MART, "every_member_present_every_month"),
    (MONTH_MART, "row_counts_match_landing"),
    (LOANS, "row_counts_match_landing"),
    (HOLDS, "row_counts_match_landing"),
    (TRANSPORTS, "row_counts_match_landing"),
    (LOANS, "loans_returned_after_checkout"),
    (MONTH_MART, "small_counts_suppressed"),
    (YEAR_MART, "small_counts_suppressed"),
    (PAIR_MONTH_MART, "small_counts_suppressed"),
    (PAIR_YEAR_MART, "small_counts_suppressed"),
    (MONTH_MART, "no_personal_data"),
    (YEAR_MART, "no_personal_data"),
}


def _months_factor(model: Model) -> int:
    return 12 if model.name == MONTH_MART else 1


# ---------------------------------------------------------------- bounds


def bounds_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    factor = _months_factor(model)
    applies = "is_complete_period and not coalesce(small_numbers_flag, false)"
    with Reader(settings, warehouse=True) as reader:
        figures = reader.df(
            f"""
            select
                municipality_code, period_start, is_complete_period, small_numbers_flag,
                case when {applies} then loans_per_capita * {factor} end
                    as loans_per_capita_per_year,
                case when {applies} then stock_per_capita end as stock_per_capita_checked,
                stock_per_capita,
                {", ".join(SHARES)},
                {", ".join(NON_NEGATIVE)}
            from {model.relation}
            """
        )
    low_loans, high_loans = PER_CAPITA_BOUNDS["loans_per_capita"]
    low_stock, high_stock = PER_CAPITA_BOUNDS["stock_per_capita"]
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(
            column="loans_per_capita_per_year", min_value=low_loans, max_value=high_loans
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="stock_per_capita_checked", min_value=low_stock, max_value=high_stock
        ),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in SHARES),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in NON_NEGATIVE),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="accessible_stock_per_capita",
            column_B="stock_per_capita",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="hold_wait_days_p90",
            column_B="hold_wait_days_median",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]
    return [
        gx.Frame(
            f"{model.name}_figures",
            figures,
            expectations,
            ids=("municipality_code", "period_start"),
            note="per-capita bounds on complete periods without a small-numbers flag; "
            "shares in [0, 1] and non-negative figures everywhere",
        )
    ]


# ---------------------------------------------------------------- presence


def presence_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    with Reader(settings, warehouse=True) as reader:
        events = reader.table("circulation_event")
        membership = reader.current("membership")
        expected = reader.df(
            f"""
            with months as (
                select distinct cast(date_trunc('month', date) as date) as period_start
                from {events} where type = 'checkout'
            ),
            span as (
                select min(period_start) as first_month, max(period_start) as last_month
                from months
            ),
            calendar as (
                select cast(unnest(generate_series(first_month, last_month, interval 1 month))
                    as date) as period_start
                from span where first_month is not null
            ),
            expected as (
                select distinct membership.municipality_code, calendar.period_start
                from calendar
                join {membership} as membership
                  on membership.joined_on <= last_day(calendar.period_start)
                 and (membership.left_on is null
                      or membership.left_on > calendar.period_start)
            ),
            mart as (
                select distinct municipality_code, cast(period_start as date) as period_start
                from {model.relation}
            )
            select
                expected.municipality_code,
                expected.period_start,
                mart.municipality_code is not null as present
            from expected
            left join mart using (municipality_code, period_start)
            order by 2, 1
            """
        )
        keys = reader.df(f"select municipality_code, period_start from {model.relation}")
    return [
        gx.Frame(
            f"{model.name}_members_by_month",
            expected,
            [gxe.ExpectColumnValuesToBeInSet(column="present", value_set=[True])],
            ids=("municipality_code", "period_start"),
            note="every member municipality (landed membership) x every month of the feed",
        ),
        gx.Frame(
            f"{model.name}_grain",
            keys,
            [
                gxe.ExpectCompoundColumnsToBeUnique(
                    column_list=["municipality_code", "period_start"]
                )
            ],
            ids=("municipality_code", "period_start"),
        ),
    ]


# ---------------------------------------------------------------- row counts


def fact_count_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    event_type, month_column = FACT_EVENTS[model.name]
    with Reader(settings, warehouse=True) as reader:
        counts = reader.df(
            f"""
            with landing as (
                select cast(date_trunc('month', date) as date) as month,
                       count(*) as landing_rows
                from {reader.table("circulation_event")}
                where type = '{event_type}'
                group by all
            ),
            mart as (
                select cast({month_column} as date) as month, count(*) as mart_rows
                from {model.relation}
                group by all
            )
            select month, coalesce(landing_rows, 0) as landing_rows,
                   coalesce(mart_rows, 0) as mart_rows
            from landing full outer join mart using (month)
            order by month
            """
        )
    return [
        gx.Frame(
            f"{model.name}_rows_by_month",
            counts,
            [gxe.ExpectColumnPairValuesToBeEqual(column_A="landing_rows", column_B="mart_rows")],
            ids=("month", "landing_rows", "mart_rows"),
            note=f"landed `{event_type}` events vs {model.name} rows, per local month",
        )
    ]


def mart_count_frames(settings: Settings, model: Model, loans: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    with Reader(settings, warehouse=True) as reader:
        counts = reader.df(
            f"""
            with facts as (
                select borrower_municipality_code as municipality_code,
                       cast(checkout_month as date) as period_start,
                       count(*) as fact_loans
                from {loans.relation}
                group by all
            )
            select mart.municipality_code, cast(mart.period_start as date) as period_start,
                   mart.loans as mart_loans, coalesce(facts.fact_loans, 0) as fact_loans
            from {model.relation} as mart
            left join facts
              on facts.municipality_code = mart.municipality_code
             and facts.period_start = cast(mart.period_start as date)
            where mart.loans is not null
            order by 2, 1
            """
        )
    return [
        gx.Frame(
            f"{model.name}_loans",
            counts,
            [gxe.ExpectColumnPairValuesToBeEqual(column_A="mart_loans", column_B="fact_loans")],
            ids=("municipality_code", "period_start", "mart_loans", "fact_loans"),
            note="loans per municipality and month vs its residents' loans in fct_loans "
            "(suppressed cells are null and left out)",
        )
    ]


# ---------------------------------------------------------------- loan times in the fact


def fact_loan_time_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    with Reader(settings, warehouse=True) as reader:
        loans = reader.df(
            f"select loan_id, checked_out_at, initial_due_at, due_at, returned_at "
            f"from {model.relation}"
        )

    def after(later: str):
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later,
            column_B="checked_out_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )

    return [
        gx.Frame(
            f"{model.name}_times",
            loans,
            [
                gxe.ExpectColumnValuesToBeUnique(column="loan_id"),
                gxe.ExpectColumnValuesToNotBeNull(column="checked_out_at"),
                after("returned_at"),
                after("due_at"),
                after("initial_due_at"),
            ],
            ids=("loan_id",),
        )
    ]


# ---------------------------------------------------------------- small counts


def small_count_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    gxe = gx.expectations()
    keys, counted = SMALL_COUNT_COLUMNS[model.name]
    with Reader(settings, warehouse=True) as reader:
        counts = reader.df(f"select {', '.join(keys + counted)} from {model.relation}")
    small = small_counts()
    return [
        gx.Frame(
            f"{model.name}_people",
            counts,
            [gxe.ExpectColumnValuesToNotBeInSet(column=c, value_set=small) for c in counted],
            ids=keys,
            note=f"published counts resting on people: null (suppressed), 0 or at least "
            f"{suppression_threshold()}",
        )
    ]


# ---------------------------------------------------------------- personal data


def mart_personal_data_frames(settings: Settings, model: Model) -> list[gx.Frame]:
    import pandas as pd

    gxe = gx.expectations()
    published = model.name.startswith(PUBLISHED_PREFIXES)
    denied = sorted(PERSONAL_COLUMN_NAMES) + (["patron_key"] if published else [])
    with Reader(settings, warehouse=True) as reader:
        columns = reader.columns_of(model.relation)
        frames = [
            gx.Frame(
                f"{model.name}_columns",
                pd.DataFrame({"column_name": columns}),
                [
                    gxe.ExpectColumnValuesToNotBeInSet(column="column_name", value_set=denied),
                    gxe.ExpectColumnValuesToNotMatchRegex(
                        column="column_name", regex=PERSONAL_COLUMN_PATTERN
                    ),
                ],
                ids=("column_name",),
            )
        ]
        if "patron_key" in columns and not published:
            keys = reader.df(
                f"select patron_key, count(*) as rows from {model.relation} "
                "where patron_key is not null group by all"
            )
            frames.append(
                gx.Frame(
                    f"{model.name}_pseudonyms",
                    keys,
                    [
                        gxe.ExpectColumnValuesToMatchRegex(
                            column="patron_key", regex=PSEUDONYM_PATTERN
                        )
                    ],
                    ids=("patron_key", "rows"),
                )
            )
    return frames


# ---------------------------------------------------------------- the Dagster checks

Evaluator = Callable[[Settings], dg.AssetCheckResult]


def _evaluator(frames: Callable[[Settings], list[gx.Frame]], model: Model, name: str) -> Evaluator:
    def evaluate(settings: Settings) -> dg.AssetCheckResult:
        return gx.check_result(gx.run(frames(settings)), asset_key=model.key, check_name=name)

    return evaluate


def mart_evaluators(models: Mapping[str, Model]) -> dict[tuple[str, str], Evaluator]:
    """Every mart check the project's models allow, by (model, check name)."""
    found: dict[tuple[str, str], Evaluator] = {}

    def add(model_name: str, check: str, frames: Callable[[Settings, Model], list[gx.Frame]]):
        model = models[model_name]
        found[(model_name, check)] = _evaluator(lambda s: frames(s, model), model, check)

    for name in (MONTH_MART, YEAR_MART):
        if name in models:
            add(name, "per_capita_within_bounds", bounds_frames)
    for name in SMALL_COUNT_COLUMNS:
        if name in models:
            add(name, "small_counts_suppressed", small_count_frames)
    if MONTH_MART in models:
        add(MONTH_MART, "every_member_present_every_month", presence_frames)
    for name in FACT_EVENTS:
        if name in models:
            add(name, "row_counts_match_landing", fact_count_frames)
    if MONTH_MART in models and LOANS in models:
        loans = models[LOANS]
        add(
            MONTH_MART,
            "row_counts_match_landing",
            lambda s, m: mart_count_frames(s, m, loans),
        )
    if LOANS in models:
        add(LOANS, "loans_returned_after_checkout", fact_loan_time_frames)
    for model in models.values():
        if model.folder[:1] == ("marts",):
            add(model.name, "no_personal_data", mart_personal_data_frames)
    return found


_DESCRIPTIONS = {
    "per_capita_within_bounds": "Loans per capita (a year) and stock per capita within "
    "0.5-20 on complete periods without a small-numbers flag; shares in [0, 1]; other figures "
    "non-negative; accessible stock at least own stock; p90 wait at least the median.",
    "every_member_present_every_month": "A row for every member municipality (landed "
    "membership timeline) in every month the landed feed covers; one row per municipality "
    "and month.",
    "row_counts_match_landing": "Rows per month equal the landed events that make them "
    "(checkout, hold_placed, transport_requested); the mart's loans per municipality and "
    "month equal its residents' loans in fct_loans.",
    "loans_returned_after_checkout": "One row per loan; returned, due and initially due at or "
    "after the checkout.",
    "small_counts_suppressed": "No published count resting on people is 1-4 (suppressed cells "
    "are null).",
    "no_personal_data": "No personal column; published marts (mart_*, dim_*) carry no "
    "pseudonym; a fact's patron_key is a 64-hex-digit pseudonym.",
}


def build_mart_checks(models: Mapping[str, Model]) -> Sequence[dg.AssetChecksDefinition]:
    """One multi-asset check running every mart suite (one check per model and suite)."""
    evaluators = mart_evaluators(models)
    if not evaluators:
        return []
    landing_deps = {
        "every_member_present_every_month": [
            landing_key("circulation_event"),
            landing_key("membership"),
        ],
        "row_counts_match_landing": [landing_key("circulation_event")],
    }
    specs = []
    for model_name, check in sorted(evaluators):
        deps = list(landing_deps.get(check, []))
        if model_name == MONTH_MART and check == "row_counts_match_landing":
            deps = [models[LOANS].key]
        specs.append(
            dg.AssetCheckSpec(
                name=check,
                asset=models[model_name].key,
                blocking=True,
                additional_deps=deps,
                description=_DESCRIPTIONS[check],
            )
        )
    by_key = {
        dg.AssetCheckKey(models[model_name].key, check): evaluate
        for (model_name, check), evaluate in evaluators.items()
    }

    @dg.multi_asset_check(specs=specs, can_subset=True, name="mart_checks")
    def mart_checks(
        context: AssetCheckExecutionContext, settings: dg.ResourceParam[Settings]
    ) -> Iterator[dg.AssetCheckResult]:
        for check_key in sorted(context.selected_asset_check_keys, key=str):
            yield by_key[check_key](settings)

    return [mart_checks]
