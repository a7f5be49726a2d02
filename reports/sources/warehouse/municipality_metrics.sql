-- Each municipality's per-capita metrics in long format (one row per municipality, period
-- and metric; grain 'month' or 'year'), for the metrics the index marts hold: the pages set
-- them against the nine municipalities' mean from equity_index (where the
-- mean is withheld if it would give back a suppressed value).
with yearly as (

    select municipality_code, municipality_name, period_start, year, is_complete_period, metric, value
    from main.mart_equity_municipality_year
    unpivot include nulls (value for metric in (
            loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
            accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
            open_hours_per_1000, children_loans_per_child
    ))

),

monthly as (

    select municipality_code, municipality_name, period_start, year, is_complete_period, metric, value
    from main.mart_equity_municipality_month
    unpivot include nulls (value for metric in (
            loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
            accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
            open_hours_per_1000, children_loans_per_child
    ))

),

periods as (

    select 'year' as grain, * from yearly
    union all
    select 'month', * from monthly

)

select
    p.grain,
    lower(strip_accents(p.municipality_name)) as slug,
    p.municipality_name,
    p.period_start,
    case p.grain when 'year' then cast(p.year as varchar) else strftime(p.period_start, '%Y-%m') end as period_label,
    p.year,
    p.is_complete_period,
    p.metric,
    d.label_sv as metric_label,
    d.unit_sv as unit,
    case
        when d.unit_sv like 'andel%' then '0.0%'
        when d.display_decimals = 0 then '#,##0'
        when d.display_decimals = 1 then '#,##0.0'
        else '#,##0.00'
    end as fmt,
    p.value
from periods as p
left join main.metric_definitions as d on d.metric = p.metric
