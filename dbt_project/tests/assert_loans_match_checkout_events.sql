-- Every landed checkout is one loan, and every loan comes from a checkout.
with checkouts as (
    select count(*) as checkout_events
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'checkout'
),
loans as (
    select count(*) as loans from {{ ref('fct_loans') }}
)
select checkouts.checkout_events, loans.loans
from checkouts
cross join loans
where checkouts.checkout_events <> loans.loans
