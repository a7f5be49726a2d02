{#- One row per month and route (the branch pair an item travels between, with the
    municipality at each end): the transport review for the region that funds the van
    (docs/metrics.md). Transports count in the month they were dispatched and are followed to
    their outcome (received, lost, or still on the way), so items_sent = items_received +
    items_lost + items_in_transit. A run is a van day with at least one item on the route.
    The allocated cost spreads the year's budget over the items moved that year; with
    simulated data the budget is scaled by s like the volumes, and a year the data covers
    only partly gets the covered share of its budget. Per municipality: sum the additive
    columns by from_ or to_municipality_code (medians are per route). -#}
with transports as (

    select * from {{ ref('fct_transports') }}
    where dispatched_date is not null

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

budgets as (

    select * from {{ ref('stg_reference__transport_budget') }}

),

items_per_year as (

    select
        cast(extract(year from dispatched_date) as bigint) as budget_year,
        {{ year_start('dispatched_date') }} as year_start,
        count(*) as items_moved
    from transports
    group by
        cast(extract(year from dispatched_date) as bigint),
        {{ year_start('dispatched_date') }}

),

cost_per_item as (

    select
        items_per_year.budget_year,
        budgets.budget_sek,
        budgets.budget_is_estimate,
        -- the share of the year the data covers, in days
        cast({{ date_diff_days(
            'case when items_per_year.year_start > provenance.first_event_date '
            ~ 'then items_per_year.year_start else provenance.first_event_date end',
            'case when ' ~ add_months('items_per_year.year_start', 12) ~ ' <= provenance.last_event_date '
            ~ 'then ' ~ add_months('items_per_year.year_start', 12)
            ~ ' else ' ~ add_days('provenance.last_event_date', 1) ~ ' end'
        ) }} as double)
        / cast({{ date_diff_days('items_per_year.year_start', add_months('items_per_year.year_start', 12)) }} as double)
            as year_covered_share,
        provenance.population_scale,
        items_per_year.items_moved
    from items_per_year
    cross join provenance
    left join budgets on budgets.budget_year = items_per_year.budget_year

),

routes as (

    select
        dispatched_month,
        from_branch_code,
        to_branch_code,
        from_municipality_code,
        to_municipality_code,
        max(transport_route) as route_kind,
        count(*) as items_sent,
        sum(case when transport_status = 'received' then 1 else 0 end) as items_received,
        sum(case when transport_status = 'lost' then 1 else 0 end) as items_lost,
        sum(case when transport_status = 'in_transit' then 1 else 0 end) as items_in_transit,
        count(distinct dispatched_date) as runs,
        sum(case when transport_reason = 'hold' then 1 else 0 end) as hold_transports,
        sum(case when served_collected_hold then 1 else 0 end) as collected_hold_transports,
        sum(case when transport_reason = 'return_home' then 1 else 0 end)
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

),

costed as (

    select
        routes.*,
        cast(extract(year from routes.dispatched_month) as bigint) as year,
        cost_per_item.budget_sek * cost_per_item.population_scale
            * cost_per_item.year_covered_share / cost_per_item.items_moved as cost_per_item_sek,
        cost_per_item.budget_is_estimate
    from routes
    left join cost_per_item
        on cost_per_item.budget_year = cast(extract(year from routes.dispatched_month) as bigint)

)

select
    costed.dispatched_month as month_start,
    costed.year,
    costed.from_branch_code,
    costed.to_branch_code,
    costed.from_municipality_code,
    costed.to_municipality_code,
    costed.route_kind,
    cast(costed.items_sent as bigint) as items_sent,
    cast(costed.items_received as bigint) as items_received,
    cast(costed.items_lost as bigint) as items_lost,
    cast(costed.items_in_transit as bigint) as items_in_transit,
    cast(costed.runs as bigint) as runs,
    {{ safe_divide('costed.items_sent', 'costed.runs') }} as items_per_run,
    cast(costed.hold_transports as bigint) as hold_transports,
    cast(costed.collected_hold_transports as bigint) as collected_hold_transports,
    cast(costed.return_home_transports as bigint) as return_home_transports,
    {{ safe_divide('costed.collected_hold_transports', 'costed.items_sent') }}
        as collected_hold_share,
    costed.cost_per_item_sek,
    costed.cost_per_item_sek * costed.items_sent as allocated_cost_sek,
    {{ safe_divide('costed.cost_per_item_sek * costed.items_sent', 'costed.collected_hold_transports') }}
        as cost_per_collected_hold_sek,
    costed.budget_is_estimate,
    costed.days_in_transit_median,
    costed.days_in_transit_p90,
    provenance.data_source
from costed
cross join provenance
