-- mart_equity_municipality_month and _year as published (counts of 1-4 people are already
-- null there), in one query (`grain`: month or year; the marts have the same columns), with
-- the page slug and, for months, the month as text for category axes.
with periods as (

    select 'month' as grain, * from main.mart_equity_municipality_month
    union all by name
    select 'year' as grain, * from main.mart_equity_municipality_year

)

select
    grain,
    lower(strip_accents(municipality_name)) as slug,
    municipality_code,
    municipality_name,
    period_start,
    case grain when 'month' then strftime(period_start, '%Y-%m') end as month,
    year,
    is_complete_period,
    is_member,
    cohort,
    population,
    population_denominator,
    loans,
    active_borrowers,
    shared_loans,
    loans_to_non_residents,
    net_lending,
    holds_placed,
    holds_ready,
    multi_municipality_borrowers,
    stock,
    accessible_stock,
    transports,
    open_hours_per_week,
    loans_per_capita,
    renewals_per_capita,
    active_borrower_share,
    stock_per_capita,
    accessible_stock_per_capita,
    collection_turnover,
    hold_fill_rate,
    hold_wait_days_median,
    hold_wait_days_p90,
    shared_loan_share,
    transports_per_1000,
    open_hours_per_1000,
    children_loans_per_child,
    multi_municipality_borrower_share,
    has_suppressed_cells,
    small_numbers_flag,
    small_numbers_reason,
    data_source
from periods
