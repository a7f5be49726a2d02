{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('month_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'month_start'}
) }}
{#- One row per month of dispatch and route (the branch pair an item travels between, with
    the municipality at each end): the transports dispatched on it and what became of
    them, counted from fct_transports. mart_transport_month adds the costs, which spread a
    year's budget over the items moved that year (the sum of items_sent here).
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the transports dispatched in them. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with transports as (

    select * from {{ ref('fct_transports') }}
    where dispatched_date is not null
      and {{ in_rebuilt_years('dispatched_date') }}

)

select
    dispatched_month as month_start,
    from_branch_code,
    to_branch_code,
    from_municipality_code,
    to_municipality_code,
    max(transport_route) as route_kind,
    cast(count(*) as bigint) as items_sent,
    cast(sum(case when transport_status = 'received' then 1 else 0 end) as bigint)
        as items_received,
    cast(sum(case when transport_status = 'lost' then 1 else 0 end) as bigint) as items_lost,
    cast(sum(case when transport_status = 'in_transit' then 1 else 0 end) as bigint)
        as items_in_transit,
    cast(count(distinct dispatched_date) as bigint) as runs,
    cast(sum(case when transport_reason = 'hold' then 1 else 0 end) as bigint)
        as hold_transports,
    cast(sum(case when served_collected_hold then 1 else 0 end) as bigint)
        as collected_hold_transports,
    cast(sum(case when transport_reason = 'return_home' then 1 else 0 end) as bigint)
        as return_home_transports,
    {{ percentile('days_in_transit', 0.5) }} as days_in_transit_median,
    {{ percentile('days_in_transit', 0.9) }} as days_in_transit_p90
from transports
group by
    dispatched_month,
    from_branch_code,
    to_branch_code,
    from_municipality_code,
    to_municipality_code
