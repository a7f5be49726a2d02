{{ config(
    materialized='incremental',
    unique_key='hold_id',
    incremental_strategy=fact_incremental_strategy(),
    partition_by=fact_partition_by('placed_month'),
    on_schema_change='fail',
    meta={'tested_rebuilt_month_column': 'placed_month'}
) }}
{#- One row per hold (reservation) and its lifecycle: placed → trapped (an item is set
    aside; it travels when it is elsewhere) → ready for pickup → fulfilled (collected), or
    cancelled / expired (not collected in time); an item lost on the way puts the hold back
    in the queue (requeued). Wait time is measured from placing to ready for pickup.
    Incremental by placed month, like fct_loans, including the months whose placings have
    lost their patron keys in the landing since they were built (the retention rule); a
    hold whose placing has no key any more keeps its patron's municipality and category
    from retained_hold_residents, frozen before the key went. -#}
with events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}
    where hold_id is not null
      and event_type in (
          'hold_placed', 'hold_trapped', 'hold_ready', 'hold_fulfilled',
          'hold_cancelled', 'hold_expired', 'hold_requeued', 'checkout'
      )

),

patrons as (

    select * from {{ ref('int_patrons') }}

),

retained_residents as (

    select * from {{ ref('retained_hold_residents') }}

),

items as (

    select * from {{ ref('int_items') }}

),

branches as (

    select * from {{ ref('int_branches') }}

),

{{ keyed_fact_events('hold_id', 'hold_placed', 'placed_month', 'hold_events') }},

placed as (

    select
        hold_id,
        database_id,
        event_id as placed_event_id,
        occurred_at as placed_at,
        event_date as placed_date,
        branch_code as pickup_branch_code,
        title_id,
        patron_key
    from hold_events
    where event_type = 'hold_placed'

),

lifecycle as (

    select
        hold_id,
        max(event_id) as last_event_id,
        sum(case when event_type = 'hold_trapped' then 1 else 0 end) as times_trapped,
        sum(case when event_type = 'hold_requeued' then 1 else 0 end) as times_requeued,
        min(case when event_type = 'hold_ready' then occurred_at end) as ready_at,
        min(case when event_type = 'hold_ready' then event_date end) as ready_date,
        min(case when event_type = 'hold_fulfilled' then occurred_at end) as fulfilled_at,
        min(case when event_type = 'hold_fulfilled' then event_date end) as fulfilled_date,
        min(case when event_type = 'hold_cancelled' then occurred_at end) as cancelled_at,
        min(case when event_type = 'hold_cancelled' then event_date end) as cancelled_date,
        max(case when event_type = 'hold_cancelled' then event_reason end) as cancel_reason,
        min(case when event_type = 'hold_expired' then occurred_at end) as expired_at,
        min(case when event_type = 'hold_expired' then event_date end) as expired_date,
        max(case when event_type = 'checkout' then loan_id end) as loan_id
    from hold_events
    group by hold_id

),

-- the home municipality and category of the patron who placed the hold: from the
-- patron key, or, once the retention rule has removed it, as they were frozen before
residents as (

    select
        placed.hold_id,
        coalesce(
            patrons.home_municipality_code, retained_residents.resident_municipality_code
        ) as home_municipality_code,
        coalesce(patrons.patron_category, retained_residents.patron_category)
            as patron_category
    from placed
    left join patrons on patrons.patron_key = placed.patron_key
    left join retained_residents
        on retained_residents.database_id = placed.database_id
        and retained_residents.hold_id = placed.hold_id

),

-- the item set aside last (an earlier one may have been lost on the way)
last_trap as (

    select hold_id, item_id as trapped_item_id
    from (
        select
            hold_id,
            item_id,
            row_number() over (partition by hold_id order by event_id desc) as newest_first
        from hold_events
        where event_type = 'hold_trapped'
    ) as traps
    where newest_first = 1

)

select
    placed.hold_id,
    placed.database_id,
    placed.placed_event_id,
    lifecycle.last_event_id,
    placed.placed_at,
    placed.placed_date,
    {{ month_start('placed.placed_date') }} as placed_month,
    placed.title_id,
    placed.patron_key,
    residents.home_municipality_code as resident_municipality_code,
    residents.patron_category,
    placed.pickup_branch_code,
    pickup_branch.municipality_code as pickup_municipality_code,
    last_trap.trapped_item_id,
    items.owner_municipality_code as trapped_item_owner_municipality_code,
    cast(lifecycle.times_trapped as bigint) as times_trapped,
    cast(lifecycle.times_requeued as bigint) as times_requeued,
    lifecycle.ready_at,
    lifecycle.ready_date,
    lifecycle.fulfilled_at,
    lifecycle.fulfilled_date,
    lifecycle.cancelled_at,
    lifecycle.cancelled_date,
    lifecycle.cancel_reason,
    lifecycle.expired_at,
    lifecycle.expired_date,
    lifecycle.loan_id,
    case
        when lifecycle.fulfilled_at is not null then 'fulfilled'
        when lifecycle.cancelled_at is not null then 'cancelled'
        when lifecycle.expired_at is not null then 'expired'
        when lifecycle.ready_at is not null then 'ready'
        when lifecycle.times_trapped > lifecycle.times_requeued then 'in_transit'
        else 'waiting'
    end as hold_status,
    lifecycle.ready_at is not null as became_ready,
    -- docs/metrics.md excludes holds the patron cancelled from the fill-rate denominator;
    -- a hold cancelled after it was ready had been filled and stays in it.
    coalesce(
        lifecycle.cancel_reason = 'patron'
        and (lifecycle.ready_at is null or lifecycle.cancelled_at < lifecycle.ready_at),
        false
    ) as is_cancelled_by_patron_before_ready,
    {{ days_between('placed.placed_at', 'lifecycle.ready_at') }} as wait_days
from placed
inner join lifecycle on lifecycle.hold_id = placed.hold_id
left join last_trap on last_trap.hold_id = placed.hold_id
left join residents on residents.hold_id = placed.hold_id
left join branches as pickup_branch on pickup_branch.branch_code = placed.pickup_branch_code
left join items on items.item_id = last_trap.trapped_item_id
