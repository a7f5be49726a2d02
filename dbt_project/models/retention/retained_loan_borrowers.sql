{#- One row per loan checked out before a retention cutoff: the borrower's home
    municipality and category as fct_loans resolves them from the patron key. Once the
    retention rule has removed the key from the checkout (ingestion/retention.py),
    fct_loans places the loan with these. Appended to by the retention step (var
    retention_cutoff) for loans not yet here, before the keys go; never rebuilt. -#}
with checkouts as (

    select database_id, loan_id, event_date, patron_key
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'checkout'
      and patron_key is not null
      and {{ before_retention_cutoff('event_date') }}

),

patrons as (

    select * from {{ ref('int_patrons') }}

),

{% if is_incremental() %}

already_retained as (

    select database_id, loan_id from {{ this }}

),

{% endif %}

borrowers as (

    select
        checkouts.database_id,
        checkouts.loan_id,
        {{ month_start('checkouts.event_date') }} as checkout_month,
        patrons.home_municipality_code as borrower_municipality_code,
        patrons.patron_category,
        {{ retention_cutoff_value() }} as retained_before
    from checkouts
    inner join patrons on patrons.patron_key = checkouts.patron_key

)

select borrowers.*
from borrowers
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = borrowers.database_id
    and already_retained.loan_id = borrowers.loan_id
where already_retained.loan_id is null
{% endif %}
