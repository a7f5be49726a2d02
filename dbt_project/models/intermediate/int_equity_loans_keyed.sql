{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('period_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'period_start'}
) }}
{#- One row per municipality and reporting period (month and year) with the loan counts
    behind the loan metrics of docs/metrics.md, from both sides of a loan: as the borrower's
    home municipality (residents' loans, borrowers, shared loans, children's loans,
    renewals) and as the owner of the item (loans of its items, loans to non-residents).
    Loans count in the period of their checkout, renewals in the period they happened.
    The distinct-people counts here are what small-number suppression rests on.
    Computed from the patron keys: for the periods whose keys the retention rule has
    removed they come up short, and int_equity_loans takes the frozen ones instead.
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the facts of those years. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with loans as (

    select * from {{ ref('fct_loans') }}
    where {{ in_rebuilt_years('checkout_date') }}

),

-- a renewal counts in its own period, whatever the year of the checkout it renews
renewed_loans as (

    select loan_id, borrower_municipality_code from {{ ref('fct_loans') }}

),

renewal_events as (

    select *
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'renew'
      and {{ in_rebuilt_years('event_date') }}

),

-- every loan once in its month and once in its year
loans_in_periods as (

    select
        'month' as period_type,
        {{ month_start('checkout_date') }} as period_start,
        loans.*
    from loans

    union all

    select
        'year' as period_type,
        {{ year_start('checkout_date') }} as period_start,
        loans.*
    from loans

),

residents as (

    select
        borrower_municipality_code as municipality_code,
        period_type,
        period_start,
        count(*) as loans,
        count(distinct patron_key) as borrowers,
        sum(case when patron_category = 'child' then 1 else 0 end) as child_loans,
        count(distinct case when patron_category = 'child' then patron_key end)
            as child_borrowers,
        sum(case when is_shared_loan then 1 else 0 end) as shared_loans,
        count(distinct case when is_shared_loan then patron_key end) as shared_loan_borrowers
    from loans_in_periods
    where borrower_municipality_code is not null
    group by borrower_municipality_code, period_type, period_start

),

-- residents who borrowed at branches of more than one municipality in the period
-- (the "one card" goal)
borrowing_places as (

    select
        borrower_municipality_code as municipality_code,
        period_type,
        period_start,
        patron_key,
        count(distinct lending_municipality_code) as lending_municipalities
    from loans_in_periods
    where borrower_municipality_code is not null
    group by borrower_municipality_code, period_type, period_start, patron_key

),

multi_municipality as (

    select
        municipality_code,
        period_type,
        period_start,
        sum(case when lending_municipalities > 1 then 1 else 0 end)
            as multi_municipality_borrowers
    from borrowing_places
    group by municipality_code, period_type, period_start

),

owners as (

    select
        owner_municipality_code as municipality_code,
        period_type,
        period_start,
        count(*) as loans_of_own_items,
        count(distinct patron_key) as own_item_borrowers,
        sum(case when is_shared_loan then 1 else 0 end) as loans_to_non_residents,
        count(distinct case when is_shared_loan then patron_key end) as non_resident_borrowers
    from loans_in_periods
    where owner_municipality_code is not null
    group by owner_municipality_code, period_type, period_start

),

renewals_in_periods as (

    select
        'month' as period_type,
        {{ month_start('renewal_events.event_date') }} as period_start,
        loans.borrower_municipality_code as municipality_code,
        renewal_events.patron_key
    from renewal_events
    inner join renewed_loans as loans on loans.loan_id = renewal_events.loan_id

    union all

    select
        'year' as period_type,
        {{ year_start('renewal_events.event_date') }} as period_start,
        loans.borrower_municipality_code as municipality_code,
        renewal_events.patron_key
    from renewal_events
    inner join renewed_loans as loans on loans.loan_id = renewal_events.loan_id

),

renewals as (

    select
        municipality_code,
        period_type,
        period_start,
        count(*) as renewals,
        count(distinct patron_key) as renewing_patrons
    from renewals_in_periods
    where municipality_code is not null
    group by municipality_code, period_type, period_start

),

-- each measure comes from exactly one side, so summing the sides is exact
sides as (

    select
        municipality_code, period_type, period_start,
        loans, borrowers, child_loans, child_borrowers, shared_loans, shared_loan_borrowers,
        0 as multi_municipality_borrowers,
        0 as loans_of_own_items, 0 as own_item_borrowers,
        0 as loans_to_non_residents, 0 as non_resident_borrowers,
        0 as renewals, 0 as renewing_patrons
    from residents

    union all

    select
        municipality_code, period_type, period_start,
        0, 0, 0, 0, 0, 0,
        multi_municipality_borrowers,
        0, 0, 0, 0, 0, 0
    from multi_municipality

    union all

    select
        municipality_code, period_type, period_start,
        0, 0, 0, 0, 0, 0,
        0,
        loans_of_own_items, own_item_borrowers, loans_to_non_residents, non_resident_borrowers,
        0, 0
    from owners

    union all

    select
        municipality_code, period_type, period_start,
        0, 0, 0, 0, 0, 0,
        0,
        0, 0, 0, 0,
        renewals, renewing_patrons
    from renewals

)

select
    municipality_code,
    period_type,
    period_start,
    cast(sum(loans) as bigint) as loans,
    cast(sum(borrowers) as bigint) as borrowers,
    cast(sum(child_loans) as bigint) as child_loans,
    cast(sum(child_borrowers) as bigint) as child_borrowers,
    cast(sum(shared_loans) as bigint) as shared_loans,
    cast(sum(shared_loan_borrowers) as bigint) as shared_loan_borrowers,
    cast(sum(multi_municipality_borrowers) as bigint) as multi_municipality_borrowers,
    cast(sum(loans_of_own_items) as bigint) as loans_of_own_items,
    cast(sum(own_item_borrowers) as bigint) as own_item_borrowers,
    cast(sum(loans_to_non_residents) as bigint) as loans_to_non_residents,
    cast(sum(non_resident_borrowers) as bigint) as non_resident_borrowers,
    cast(sum(renewals) as bigint) as renewals,
    cast(sum(renewing_patrons) as bigint) as renewing_patrons
from sides
group by municipality_code, period_type, period_start
