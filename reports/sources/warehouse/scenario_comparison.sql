-- The scenario comparison (mart_scenario_comparison) for the page Scenarier, with the
-- metrics' Swedish names and whether a difference is an effect (beyond the spread over
-- seeds). Until a scenario has been run (`make scenarios`) the mart is empty, and Evidence
-- cannot build a source without rows (it writes a Parquet file too small to read): then
-- this gives one row of nulls, which the page's queries leave out (scenario is null), and
-- the page says that no scenario has been run.
with comparison as (

select
    scenario,
    scale,
    start_date,
    end_date,
    year,
    cast(year as varchar) as year_label,
    municipality_code,
    municipality_name,
    metric,
    case metric
        when 'loans_per_capita' then 'Lån per invånare'
        when 'hold_wait_days_median' then 'Väntetid på reservation, median (dagar)'
        when 'hold_wait_days_p90' then 'Väntetid på reservation, 90:e percentilen (dagar)'
        when 'holds_filled_elsewhere_share' then 'Reservationer från annan kommun (andel)'
        when 'transports' then 'Transporter (medier)'
        when 'van_runs' then 'Transportstopp'
        when 'van_cost_sek' then 'Transportkostnad (kr)'
        when 'van_budget_sek' then 'Transportbudget för perioden (kr)'
        when 'van_cost_budget_share' then 'Andel av transportbudgeten'
        when 'loans_per_capita_cv' then 'Variationskoefficient, lån per invånare'
        when 'loans_per_capita_gini' then 'Gini, lån per invånare'
        when 'loans_per_capita_theil' then 'Theil, lån per invånare'
        else metric end as metric_sv,
    seeds,
    seeds_compared,
    baseline_value,
    scenario_value,
    difference,
    difference_min,
    difference_max,
    seed_spread,
    case
        when is_beyond_seed_spread then 'Ja'
        when not is_beyond_seed_spread then 'Nej, inom spridningen'
        else 'Kan inte bedömas'
    end as effect_sv
from main.mart_scenario_comparison

)

select * from comparison
union all
select
    null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null, null, null
where not exists (select 1 from comparison)
