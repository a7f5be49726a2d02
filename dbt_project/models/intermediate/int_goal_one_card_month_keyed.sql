{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('month_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'month_start'}
) }}
{#- One row per month: the "one card" KPI of the 2024 goal, year to date. Of the
    residents of member municipalities who borrowed this calendar year up to the month's
    end (loans made while their municipality was a member), the share who borrowed at
    branches of more than one municipality. Built per patron and year from the date of
    the first loan and the date the patron first borrowed in a second municipality.
    Computed from the patron keys; int_goal_one_card_month takes the frozen counts for
    the years whose keys the retention rule has (partly) removed.
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the facts of those years. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with loans as (

    select
        patron_key,
        checkout_date,
        lending_municipality_code,
        {{ year_start('checkout_date') }} as year_start
    from {{ ref('fct_loans') }}
    where borrower_is_member
      and lending_municipality_code is not null
      and {{ in_rebuilt_years('checkout_date') }}

),

months as (

    select * from {{ ref('int_periods') }}
    where period_type = 'month'
      and {{ in_rebuilt_years('period_start') }}

),

first_loan_per_place as (

    select
        patron_key,
        year_start,
        lending_municipality_code,
        min(checkout_date) as first_loan_date
    from loans
    group by patron_key, year_start, lending_municipality_code

),

ranked as (

    select
        first_loan_per_place.*,
        row_number() over (
            partition by patron_key, year_start
            order by first_loan_date, lending_municipality_code
        ) as place_rank
    from first_loan_per_place

),

patron_years as (

    select
        patron_key,
        year_start,
        min(first_loan_date) as active_from,
        max(case when place_rank = 2 then first_loan_date end) as multi_municipality_from
    from ranked
    group by patron_key, year_start

)

select
    months.period_start as month_start,
    months.period_year as year,
    months.period_state_date,
    months.is_complete_period,
    cast(count(patron_years.patron_key) as bigint) as active_borrowers_ytd,
    cast(sum(case when patron_years.multi_municipality_from <= months.period_state_date
        then 1 else 0 end) as bigint) as multi_municipality_borrowers_ytd,
    {{ safe_divide(
        'sum(case when patron_years.multi_municipality_from <= months.period_state_date then 1 else 0 end)',
        'count(patron_years.patron_key)'
    ) }} as multi_municipality_borrower_share_ytd
from months
left join patron_years
    on patron_years.year_start = {{ year_start('months.period_start') }}
    and patron_years.active_from <= months.period_state_date
group by
    months.period_start,
    months.period_year,
    months.period_state_date,
    months.is_complete_period
