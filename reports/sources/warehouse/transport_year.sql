-- The transport review per year, summed over the routes of mart_transport_month. The budget
-- is what the mart allocates over the year's items (the yearly budget × s for simulated data,
-- × the share of the year the data covers). Days in transit: the mart has medians per route
-- and month only, so this is their mean weighted by items received (not a median of all
-- items).
select
    year,
    cast(year as varchar) as year_label,
    count(distinct month_start) as months,
    min(month_start) as first_month,
    max(month_start) as last_month,
    sum(items_sent) as items_sent,
    sum(items_received) as items_received,
    sum(items_lost) as items_lost,
    sum(items_in_transit) as items_in_transit,
    sum(items_lost) / nullif(sum(items_sent), 0) as lost_share,
    sum(runs) as runs,
    sum(items_sent) / nullif(sum(runs), 0) as items_per_run,
    sum(hold_transports) as hold_transports,
    sum(collected_hold_transports) as collected_hold_transports,
    sum(collected_hold_transports) / nullif(sum(items_sent), 0) as collected_hold_share,
    sum(allocated_cost_sek) as allocated_cost_sek,
    sum(allocated_cost_sek) / nullif(sum(collected_hold_transports), 0) as cost_per_collected_hold_sek,
    bool_or(budget_is_estimate) as budget_is_estimate,
    sum(days_in_transit_median * items_received) / nullif(sum(case when days_in_transit_median is not null then items_received end), 0) as days_in_transit_median_weighted,
    sum(days_in_transit_p90 * items_received) / nullif(sum(case when days_in_transit_p90 is not null then items_received end), 0) as days_in_transit_p90_weighted,
    any_value(data_source) as data_source
from main.mart_transport_month
group by year
