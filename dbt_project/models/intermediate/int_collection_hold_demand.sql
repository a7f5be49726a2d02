{#- One row per title and pickup branch with holds brought by the van in the demand window:
    holds placed in the 12 months up to the advice date A (var advice_demand_months; from
    the day after A minus 12 months through A) that became ready with a copy the van
    brought for them (a hold transport to the pickup branch that arrived). With the number
    of such holds, the distinct patrons behind them (for suppression in the mart) and
    their mean wait for the van in days (the hold transport requested → received): the
    part of their wait a copy already on the shelf at the pickup branch would have saved.
    (Time a hold spent queueing before a copy was free is not: an idle copy the hold could
    have had would have been trapped at once.) Unsuppressed: the mart publishes. -#}
with provenance as (

    select * from {{ ref('int_data_provenance') }}

),

as_of as (

    select
        {{ advice_as_of('provenance') }} as advice_as_of,
        {{ add_months(advice_as_of('provenance'), -var('advice_demand_months')) }}
            as demand_after
    from provenance

),

holds as (

    select fct_holds.*
    from {{ ref('fct_holds') }} as fct_holds
    cross join as_of
    where fct_holds.placed_date > as_of.demand_after
      and fct_holds.placed_date <= as_of.advice_as_of
      and fct_holds.became_ready

),

van_brought as (

    select
        holds.hold_id,
        max({{ days_between('transports.requested_at', 'transports.received_at') }})
            as van_wait_days
    from {{ ref('fct_transports') }} as transports
    inner join holds
        on holds.hold_id = transports.hold_id
        and holds.pickup_branch_code = transports.to_branch_code
    where transports.transport_reason = 'hold'
      and transports.transport_status = 'received'
    group by holds.hold_id

),

demand as (

    select
        holds.title_id,
        holds.pickup_branch_code,
        count(*) as holds_by_van,
        count(distinct holds.patron_key) as hold_patrons,
        avg(van_brought.van_wait_days) as wait_days_by_van_mean
    from holds
    inner join van_brought on van_brought.hold_id = holds.hold_id
    group by holds.title_id, holds.pickup_branch_code

)

select
    as_of.advice_as_of,
    demand.title_id,
    demand.pickup_branch_code,
    cast(demand.holds_by_van as bigint) as holds_by_van,
    cast(demand.hold_patrons as bigint) as hold_patrons,
    cast(demand.wait_days_by_van_mean as double) as wait_days_by_van_mean
from demand
cross join as_of
