{#- One row per municipality and reporting period with the hold counts behind
    hold_fill_rate and the wait-time percentiles of metrics.md (int_equity_holds_keyed),
    where the count of distinct patrons of a period frozen by the retention rule is the
    frozen one (retained_equity_hold_people): their patron keys are gone, or about to go.
    Every other figure is computed from fct_holds, which keeps each hold's municipality
    after its key has gone. -#}
with computed as (

    select * from {{ ref('int_equity_holds_keyed') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

-- frozen counts of this lending-core database (a rebuilt one starts again)
frozen as (

    select retained.*
    from {{ ref('retained_equity_hold_people') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

frozen_periods as (

    select distinct period_type, period_start from frozen

)

select
    computed.municipality_code,
    computed.period_type,
    computed.period_start,
    computed.holds_placed,
    {{ frozen_or_computed('hold_patrons') }} as hold_patrons,
    computed.holds_cancelled_by_patron,
    computed.holds_ready,
    computed.holds_open,
    computed.hold_wait_days_median,
    computed.hold_wait_days_p90
from computed
left join frozen_periods
    on frozen_periods.period_type = computed.period_type
    and frozen_periods.period_start = computed.period_start
left join frozen
    on frozen.municipality_code = computed.municipality_code
    and frozen.period_type = computed.period_type
    and frozen.period_start = computed.period_start
