{{ config(tags=['retention']) }}
-- Run by the retention step after freezing and before the landing loses any key: every
-- loan and hold placed before the cutoff whose patron is known has its patron's
-- municipality frozen. Without the var retention_cutoff it checks nothing.
{%- set cutoff = retention_cutoff() %}
select 'loan' as entity, loans.loan_id as entity_id
from {{ ref('fct_loans') }} as loans
left join {{ ref('retained_loan_borrowers') }} as retained
    on retained.database_id = loans.database_id
    and retained.loan_id = loans.loan_id
where {{ before_retention_cutoff('loans.checkout_date') }}
  and loans.borrower_municipality_code is not null
  and retained.loan_id is null

union all

select 'hold', holds.hold_id
from {{ ref('fct_holds') }} as holds
left join {{ ref('retained_hold_residents') }} as retained
    on retained.database_id = holds.database_id
    and retained.hold_id = holds.hold_id
where {{ before_retention_cutoff('holds.placed_date') }}
  and holds.resident_municipality_code is not null
  and retained.hold_id is null
