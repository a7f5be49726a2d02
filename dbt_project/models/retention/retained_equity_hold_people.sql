{#- The distinct-people count of int_equity_holds (patrons who placed holds) for every
    municipality and frozen period, computed from the patron keys before the retention
    rule removed them. Frozen periods as in retained_equity_loan_people. Appended to by
    the retention step (var retention_cutoff) for periods not yet here; never rebuilt. -#}
with computed as (

    select * from {{ ref('int_equity_holds_keyed') }}

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
        computed.hold_patrons,
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
