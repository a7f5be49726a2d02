{{ config(
    materialized='incremental',
    unique_key='transport_id',
    incremental_strategy=fact_incremental_strategy(),
    partition_by=fact_partition_by('requested_month'),
    on_schema_change='fail',
    meta={'tested_rebuilt_month_column': 'requested_month'}
) }}
{#- One row per transport (an item moved by the county van, via the hub or on a direct
    route, or between branches of one municipality): requested → dispatched → received,
    or lost (not received within 30 days of dispatch; the lending core marks it). Whether
    it served a hold that was then collected: a hold transport whose item arrived and was
    then collected by the patron who reserved it. Incremental by requested month; a hold
    collected later re-opens its transport's month. -#}
with transport_events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}
    where transport_id is not null
      and event_type in (
          'transport_requested', 'transport_dispatched', 'transport_received', 'transport_lost'
      )

),

collections as (

    select hold_id, item_id, event_id, occurred_at
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'hold_fulfilled'

),

branches as (

    select * from {{ ref('int_branches') }}

),

requested_months as (

    select
        transport_id,
        hold_id,
        {{ month_start('event_date') }} as requested_month
    from transport_events
    where event_type = 'transport_requested'

),

{% if is_incremental() %}

new_event_transports as (

    select transport_id
    from transport_events
    where event_id > {{ fact_watermark() }}

    union

    select requested_months.transport_id
    from requested_months
    inner join collections on collections.hold_id = requested_months.hold_id
    where collections.event_id > {{ fact_watermark() }}

),

rebuilt_months as (

    select distinct requested_months.requested_month
    from requested_months
    inner join new_event_transports
        on new_event_transports.transport_id = requested_months.transport_id

),

rebuilt_transports as (

    select requested_months.transport_id
    from requested_months
    inner join rebuilt_months
        on rebuilt_months.requested_month = requested_months.requested_month

),

events as (

    select transport_events.*
    from transport_events
    inner join rebuilt_transports
        on rebuilt_transports.transport_id = transport_events.transport_id

),

{% else %}

events as (

    select * from transport_events

),

{% endif %}

requested as (

    select
        transport_id,
        database_id,
        event_id as requested_event_id,
        occurred_at as requested_at,
        event_date as requested_date,
        item_id,
        hold_id,
        from_branch_code,
        to_branch_code,
        event_reason as transport_reason,
        transport_route
    from events
    where event_type = 'transport_requested'

),

lifecycle as (

    select
        transport_id,
        max(event_id) as last_transport_event_id,
        min(case when event_type = 'transport_dispatched' then occurred_at end) as dispatched_at,
        min(case when event_type = 'transport_dispatched' then event_date end) as dispatched_date,
        min(case when event_type = 'transport_received' then occurred_at end) as received_at,
        min(case when event_type = 'transport_received' then event_date end) as received_date,
        min(case when event_type = 'transport_lost' then occurred_at end) as lost_at,
        min(case when event_type = 'transport_lost' then event_date end) as lost_date
    from events
    group by transport_id

),

-- the collection (hold fulfilled) of the very item this transport brought
collected as (

    select
        requested.transport_id,
        max(collections.event_id) as collection_event_id
    from requested
    inner join lifecycle on lifecycle.transport_id = requested.transport_id
    inner join collections
        on collections.hold_id = requested.hold_id
        and collections.item_id = requested.item_id
        and collections.occurred_at >= lifecycle.received_at
    where requested.transport_reason = 'hold'
    group by requested.transport_id

)

select
    requested.transport_id,
    requested.database_id,
    requested.requested_event_id,
    case
        when collected.collection_event_id > lifecycle.last_transport_event_id
            then collected.collection_event_id
        else lifecycle.last_transport_event_id
    end as last_event_id,
    requested.item_id,
    requested.hold_id,
    requested.transport_reason,
    requested.transport_route,
    requested.from_branch_code,
    from_branch.municipality_code as from_municipality_code,
    requested.to_branch_code,
    to_branch.municipality_code as to_municipality_code,
    requested.requested_at,
    requested.requested_date,
    {{ month_start('requested.requested_date') }} as requested_month,
    lifecycle.dispatched_at,
    lifecycle.dispatched_date,
    {{ month_start('lifecycle.dispatched_date') }} as dispatched_month,
    lifecycle.received_at,
    lifecycle.received_date,
    lifecycle.lost_at,
    lifecycle.lost_date,
    case
        when lifecycle.lost_at is not null then 'lost'
        when lifecycle.received_at is not null then 'received'
        when lifecycle.dispatched_at is not null then 'in_transit'
        else 'requested'
    end as transport_status,
    {{ days_between('lifecycle.dispatched_at', 'lifecycle.received_at') }} as days_in_transit,
    collected.collection_event_id is not null as served_collected_hold
from requested
inner join lifecycle on lifecycle.transport_id = requested.transport_id
left join collected on collected.transport_id = requested.transport_id
left join branches as from_branch on from_branch.branch_code = requested.from_branch_code
left join branches as to_branch on to_branch.branch_code = requested.to_branch_code
