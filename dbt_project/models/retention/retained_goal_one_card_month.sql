{#- The year-to-date people counts of the "one card" KPI (int_goal_one_card_month) for
    every month of a calendar year that begins before the retention cutoff, computed from
    the patron keys before the retention rule removed them. A month's year-to-date count
    reaches back to January, so it is frozen with its year, not with its month: a year
    that begins before the cutoff has ended (the cutoff never falls inside an open year),
    so all its months' counts are final. Appended to by the retention step (var
    retention_cutoff) for months not yet here; never rebuilt. -#}
with computed as (

    select * from {{ ref('int_goal_one_card_month_keyed') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

{% if is_incremental() %}

already_retained as (

    select database_id, month_start from {{ this }}

),

{% endif %}

frozen as (

    select
        provenance.database_id,
        computed.month_start,
        computed.active_borrowers_ytd,
        computed.multi_municipality_borrowers_ytd,
        {{ retention_cutoff_value() }} as retained_before
    from computed
    cross join provenance
    where {{ before_retention_cutoff(year_start('computed.month_start')) }}

)

select frozen.*
from frozen
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = frozen.database_id
    and already_retained.month_start = frozen.month_start
where already_retained.month_start is null
{% endif %}
