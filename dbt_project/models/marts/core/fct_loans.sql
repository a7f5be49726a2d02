{{ config(
    materialized='incremental',
    unique_key='loan_id',
    incremental_strategy=fact_incremental_strategy(),
    partition_by=fact_partition_by('checkout_month'),
    on_schema_change='fail',
    meta={'tested_rebuilt_month_column': 'checkout_month'}
) }}
{#- One row per loan (a checkout; renewals extend it, a checkin closes it) with the three
    municipalities the equity metrics need resolved at the loan date: the borrower's home
    municipality, the owning municipality of the item and the municipality of the lending
    branch. Incremental: a run rebuilds every checkout month that holds a loan with an
    event newer than the table's watermark (see macros/incremental.sql), and every month
    whose checkouts have lost their patron keys in the landing since it was built (the
    retention rule, ingestion/retention.py), so the keys go here too. A loan whose
    checkout has no key any more keeps its borrower's municipality and category from
    retained_loan_borrowers, frozen before the key went. -#}
with events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}
    where event_type in ('checkout', 'renew', 'checkin')
      and loan_id is not null

),

patrons as (

    select * from {{ ref('int_patrons') }}

),

retained_borrowers as (

    select * from {{ ref('retained_loan_borrowers') }}

),

items as (

    select * from {{ ref('int_items') }}

),

branches as (

    select * from {{ ref('int_branches') }}

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

{{ keyed_fact_events('loan_id', 'checkout', 'checkout_month', 'loan_events') }},

checkouts as (

    select
        loan_id,
        database_id,
        event_id as checkout_event_id,
        occurred_at as checked_out_at,
        event_date as checkout_date,
        branch_code as checkout_branch_code,
        item_id,
        title_id,
        patron_key,
        hold_id,
        due_at as initial_due_at
    from loan_events
    where event_type = 'checkout'

),

renewals as (

    select
        loan_id,
        count(*) as renewals,
        max(event_date) as last_renewed_date
    from loan_events
    where event_type = 'renew'
    group by loan_id

),

ordered as (

    select
        loan_id,
        event_type,
        event_id,
        occurred_at,
        event_date,
        branch_code,
        due_at,
        max(event_id) over (partition by loan_id) as last_event_id,
        row_number() over (
            partition by loan_id, case when event_type = 'checkin' then 1 else 0 end
            order by event_id desc
        ) as newest_first
    from loan_events

),

-- the due time set by the newest checkout or renewal
current_due as (

    select loan_id, due_at, last_event_id
    from ordered
    where event_type <> 'checkin' and newest_first = 1

),

returns as (

    select
        loan_id,
        occurred_at as returned_at,
        event_date as return_date,
        branch_code as return_branch_code
    from ordered
    where event_type = 'checkin' and newest_first = 1

),

-- the borrower's home municipality and category: from the patron key, or, once the
-- retention rule has removed the key from the checkout, as they were frozen before
borrowers as (

    select
        checkouts.loan_id,
        coalesce(
            patrons.home_municipality_code, retained_borrowers.borrower_municipality_code
        ) as home_municipality_code,
        coalesce(patrons.patron_category, retained_borrowers.patron_category)
            as patron_category
    from checkouts
    left join patrons on patrons.patron_key = checkouts.patron_key
    left join retained_borrowers
        on retained_borrowers.database_id = checkouts.database_id
        and retained_borrowers.loan_id = checkouts.loan_id

),

borrower_membership as (

    select
        checkouts.loan_id,
        max(case when memberships.municipality_code is not null then 1 else 0 end)
            as borrower_is_member
    from checkouts
    inner join borrowers on borrowers.loan_id = checkouts.loan_id
    left join memberships
        on memberships.municipality_code = borrowers.home_municipality_code
        and memberships.joined_on <= checkouts.checkout_date
        and (memberships.left_on is null or memberships.left_on > checkouts.checkout_date)
    group by checkouts.loan_id

)

select
    checkouts.loan_id,
    checkouts.database_id,
    checkouts.checkout_event_id,
    current_due.last_event_id,
    checkouts.checked_out_at,
    checkouts.checkout_date,
    {{ month_start('checkouts.checkout_date') }} as checkout_month,
    checkouts.checkout_branch_code,
    lending_branch.municipality_code as lending_municipality_code,
    checkouts.item_id,
    checkouts.title_id,
    items.media_type,
    items.audience,
    items.home_branch_code as item_home_branch_code,
    items.owner_municipality_code,
    checkouts.patron_key,
    borrowers.home_municipality_code as borrower_municipality_code,
    borrowers.patron_category,
    coalesce(borrower_membership.borrower_is_member, 0) = 1 as borrower_is_member,
    items.owner_municipality_code <> borrowers.home_municipality_code as is_shared_loan,
    lending_branch.municipality_code <> borrowers.home_municipality_code
        as is_borrowed_in_other_municipality,
    checkouts.hold_id,
    checkouts.hold_id is not null as is_from_hold,
    checkouts.initial_due_at,
    current_due.due_at,
    cast(coalesce(renewals.renewals, 0) as bigint) as renewals,
    renewals.last_renewed_date,
    returns.returned_at,
    returns.return_date,
    returns.return_branch_code,
    return_branch.municipality_code as return_municipality_code,
    returns.returned_at is not null as is_returned,
    {{ days_between('checkouts.checked_out_at', 'returns.returned_at') }} as loan_days
from checkouts
inner join current_due on current_due.loan_id = checkouts.loan_id
left join renewals on renewals.loan_id = checkouts.loan_id
left join returns on returns.loan_id = checkouts.loan_id
left join borrowers on borrowers.loan_id = checkouts.loan_id
left join items on items.item_id = checkouts.item_id
left join branches as lending_branch
    on lending_branch.branch_code = checkouts.checkout_branch_code
left join branches as return_branch
    on return_branch.branch_code = returns.return_branch_code
left join borrower_membership on borrower_membership.loan_id = checkouts.loan_id
