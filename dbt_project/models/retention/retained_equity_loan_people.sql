{#- The distinct-people counts of int_equity_loans (borrowers, renewing patrons, ...) for
    every municipality and frozen period, computed from the patron keys before the
    retention rule removed them (ingestion/retention.py). A period is frozen when it
    begins before the cutoff: every month before it, and every calendar year that begins
    before it (the cutoff never falls inside a year that has not ended, so such a year is
    complete and its counts final). Appended to by the retention step (var
    retention_cutoff) for periods not yet here; never rebuilt. -#}
with computed as (

    select * from {{ ref('int_equity_loans_keyed') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

{% if is_incremental() %}

already_retained as (

    select distinct database_id, period_type, period_start from {{ this }}

),

{% endif %}

frozen as (

    select
        provenance.database_id,
        computed.municipality_code,
        computed.period_type,
        computed.period_start,
        computed.borrowers,
        computed.child_borrowers,
        computed.shared_loan_borrowers,
        computed.multi_municipality_borrowers,
        computed.own_item_borrowers,
        computed.non_resident_borrowers,
        computed.renewing_patrons,
        {{ retention_cutoff_value() }} as retained_before
    from computed
    cross join provenance
    where {{ before_retention_cutoff('computed.period_start') }}

)

select frozen.*
from frozen
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = frozen.database_id
    and already_retained.period_type = frozen.period_type
    and already_retained.period_start = frozen.period_start
where already_retained.period_start is null
{% endif %}
