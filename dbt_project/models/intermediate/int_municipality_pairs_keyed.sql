{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('period_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'period_start'}
) }}
{#- One row per ordered pair of different municipalities (the owner of the items, the
    borrower's home municipality) and reporting period (month and year) in which the
    owner's items went to the other's residents: loans (checkouts, in the period of the
    checkout) and holds filled (holds placed by the other's residents in the period that
    became ready with an item the owner's branches own; a cohort by the date placed, as
    the equity marts count holds), with the distinct people behind each. The people counts
    are what small-number suppression rests on (int_municipality_pair_disclosure).
    Computed from the patron keys: for the periods whose keys the retention rule has
    removed they come up short, and int_municipality_pairs takes the frozen ones instead.
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the facts of those years. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with loans as (

    select
        {{ month_start('checkout_date') }} as month_start,
        {{ year_start('checkout_date') }} as year_start,
        owner_municipality_code,
        borrower_municipality_code,
        patron_key
    from {{ ref('fct_loans') }}
    where owner_municipality_code <> borrower_municipality_code
      and {{ in_rebuilt_years('checkout_date') }}

),

filled_holds as (

    select
        {{ month_start('placed_date') }} as month_start,
        {{ year_start('placed_date') }} as year_start,
        trapped_item_owner_municipality_code as owner_municipality_code,
        resident_municipality_code as borrower_municipality_code,
        patron_key
    from {{ ref('fct_holds') }}
    where became_ready
      and trapped_item_owner_municipality_code <> resident_municipality_code
      and {{ in_rebuilt_years('placed_date') }}

),

-- every loan and filled hold once in its month and once in its year
flows as (

    select 'month' as period_type, month_start as period_start, owner_municipality_code,
        borrower_municipality_code, patron_key, 1 as is_loan
    from loans
    union all
    select 'year', year_start, owner_municipality_code, borrower_municipality_code,
        patron_key, 1
    from loans
    union all
    select 'month', month_start, owner_municipality_code, borrower_municipality_code,
        patron_key, 0
    from filled_holds
    union all
    select 'year', year_start, owner_municipality_code, borrower_municipality_code,
        patron_key, 0
    from filled_holds

)

select
    owner_municipality_code,
    borrower_municipality_code,
    period_type,
    period_start,
    cast(sum(is_loan) as bigint) as loans,
    cast(count(distinct case when is_loan = 1 then patron_key end) as bigint) as borrowers,
    cast(sum(1 - is_loan) as bigint) as holds_filled,
    cast(count(distinct case when is_loan = 0 then patron_key end) as bigint) as hold_patrons
from flows
group by owner_municipality_code, borrower_municipality_code, period_type, period_start
