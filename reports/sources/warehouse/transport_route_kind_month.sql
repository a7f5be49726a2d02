-- The transport review per month and kind of route (local within a municipality, the direct
-- Nora–Lindesberg route, via the hub in Örebro), summed over mart_transport_month's routes.
-- Days in transit as in transport_year.sql: a mean of route medians weighted by items received.
select
    month_start,
    strftime(month_start, '%Y-%m') as month,
    year,
    route_kind,
    case route_kind
        when 'local' then 'Inom kommunen'
        when 'direct' then 'Direkt Nora–Lindesberg'
        when 'hub' then 'Via Örebro'
        else route_kind
    end as route_kind_sv,
    count(*) as routes,
    sum(items_sent) as items_sent,
    sum(items_received) as items_received,
    sum(items_lost) as items_lost,
    sum(runs) as runs,
    sum(items_sent) / nullif(sum(runs), 0) as items_per_run,
    sum(collected_hold_transports) as collected_hold_transports,
    sum(collected_hold_transports) / nullif(sum(items_sent), 0) as collected_hold_share,
    sum(allocated_cost_sek) as allocated_cost_sek,
    sum(allocated_cost_sek) / nullif(sum(collected_hold_transports), 0) as cost_per_collected_hold_sek,
    sum(days_in_transit_median * items_received) / nullif(sum(case when days_in_transit_median is not null then items_received end), 0) as days_in_transit_median_weighted,
    sum(days_in_transit_p90 * items_received) / nullif(sum(case when days_in_transit_p90 is not null then items_received end), 0) as days_in_transit_p90_weighted,
    any_value(data_source) as data_source
from main.mart_transport_month
group by month_start, year, route_kind
