{#- One row per month and route (the branch pair an item travels between, with the
    municipality at each end): the transport review for the region that funds the van
    (docs/metrics.md). Transports count in the month they were dispatched and are followed to
    their outcome (received, lost, or still on the way), so items_sent = items_received +
    items_lost + items_in_transit. A run is a van day with at least one item on the route.
    The allocated cost spreads the year's budget over the items moved that year; with
    simulated data the budget is scaled by s like the volumes, and a year the data covers
    only partly gets the covered share of its budget. Per municipality: sum the additive
    columns by from_ or to_municipality_code (medians are per route). The counts per
    route and month come from int_transport_route_month, which a nightly build updates
    for the years it touched only. -#}
with routes as (

    select * from {{ ref('int_transport_route_month') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

budgets as (

    select * from {{ ref('stg_reference__transport_budget') }}

),

-- every transport dispatched in the year, once: the routes' items sent
items_per_year as (

    select
        cast(extract(year from month_start) as bigint) as budget_year,
        {{ year_start('month_start') }} as year_start,
        cast(sum(items_sent) as bigint) as items_moved
    from routes
    group by
        cast(extract(year from month_start) as bigint),
        {{ year_start('month_start') }}

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

costed as (

    select
        routes.*,
        cast(extract(year from routes.month_start) as bigint) as year,
        cost_per_item.budget_sek * cost_per_item.population_scale
            * cost_per_item.year_covered_share / cost_per_item.items_moved as cost_per_item_sek,
        cost_per_item.budget_is_estimate
    from routes
    left join cost_per_item
        on cost_per_item.budget_year = cast(extract(year from routes.month_start) as bigint)

)

select
    costed.month_start,
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
