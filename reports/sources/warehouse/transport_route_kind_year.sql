-- As transport_route_kind_month.sql, per year: the direct Nora–Lindesberg route against the
-- routes via the hub and the local ones.
select
    year,
    route_kind,
    case route_kind
        when 'local' then 'Inom kommunen'
        when 'direct' then 'Direkt Nora–Lindesberg'
        when 'hub' then 'Via Örebro'
        else route_kind
    end as route_kind_sv,
    count(distinct from_branch_code || '>' || to_branch_code) as routes,
    sum(items_sent) as items_sent,
    sum(items_lost) as items_lost,
    sum(items_lost) / nullif(sum(items_sent), 0) as lost_share,
    sum(runs) as runs,
    sum(items_sent) / nullif(sum(runs), 0) as items_per_run,
    sum(collected_hold_transports) / nullif(sum(items_sent), 0) as collected_hold_share,
    sum(allocated_cost_sek) / nullif(sum(collected_hold_transports), 0) as cost_per_collected_hold_sek,
    sum(days_in_transit_median * items_received) / nullif(sum(case when days_in_transit_median is not null then items_received end), 0) as days_in_transit_median_weighted,
    sum(days_in_transit_p90 * items_received) / nullif(sum(case when days_in_transit_p90 is not null then items_received end), 0) as days_in_transit_p90_weighted,
    any_value(data_source) as data_source
from main.mart_transport_month
group by year, route_kind
