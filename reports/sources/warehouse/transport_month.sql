-- mart_transport_month: one row per dispatch month and route (branch pair), with the
-- branches' and municipalities' names.
select
    t.month_start,
    strftime(t.month_start, '%Y-%m') as month,
    t.year,
    t.route_kind,
    t.from_branch_code,
    fb.branch_name as from_branch_name,
    t.from_municipality_code,
    fm.municipality_name as from_municipality_name,
    t.to_branch_code,
    tb.branch_name as to_branch_name,
    t.to_municipality_code,
    tm.municipality_name as to_municipality_name,
    t.items_sent,
    t.items_received,
    t.items_lost,
    t.items_in_transit,
    t.runs,
    t.items_per_run,
    t.hold_transports,
    t.collected_hold_transports,
    t.return_home_transports,
    t.collected_hold_share,
    t.allocated_cost_sek,
    t.cost_per_collected_hold_sek,
    t.budget_is_estimate,
    t.days_in_transit_median,
    t.days_in_transit_p90,
    t.data_source
from main.mart_transport_month as t
left join main.dim_branch as fb on fb.branch_code = t.from_branch_code
left join main.dim_branch as tb on tb.branch_code = t.to_branch_code
left join main.dim_municipality as fm on fm.municipality_code = t.from_municipality_code
left join main.dim_municipality as tm on tm.municipality_code = t.to_municipality_code
