-- mart_equity_index_year: inequality across municipalities per period, metric and scope
-- (members / all_with_data), with the metric's Swedish label.
--
-- Withheld here: the mart computes the indices on the unsuppressed values, so where a
-- municipality's value in scope is suppressed in mart_equity_municipality_year (it rests on
-- 1-4 people), the population-weighted mean together with the other municipalities'
-- published values and populations would give it back by subtraction. Such rows publish
-- no statistics (is_withheld), only that they exist.
with published_values as (

    unpivot (
        select period_start, is_member,
            loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
            accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
            open_hours_per_1000, children_loans_per_child
        from main.mart_equity_municipality_year
    )
    on loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
        accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
        open_hours_per_1000, children_loans_per_child
    into name metric value value

),

published_counts as (

    -- unpivot leaves out nulls: these count the published values
    select
        period_start,
        metric,
        count(*) as all_with_data,
        count(*) filter (where is_member) as members
    from published_values
    group by period_start, metric

),

indices as (

    select
        i.*,
        i.municipalities > coalesce(
            case i.scope when 'members' then p.members else p.all_with_data end, 0
        ) as is_withheld
    from main.mart_equity_index_year as i
    left join published_counts as p on p.period_start = i.period_start and p.metric = i.metric

)

select
    i.period_start,
    cast(i.year as varchar) as year_label,
    i.year,
    i.is_complete_period,
    i.metric,
    d.label_sv as metric_label,
    i.scope,
    i.municipalities,
    i.is_withheld,
    case when not i.is_withheld then i.mean_value end as mean_value,
    case when not i.is_withheld then i.coefficient_of_variation end as coefficient_of_variation,
    case when not i.is_withheld then i.gini end as gini,
    case when not i.is_withheld then i.max_min_ratio end as max_min_ratio,
    case when not i.is_withheld then i.theil_t end as theil_t,
    case when not i.is_withheld then i.theil_within end as theil_within,
    case when not i.is_withheld then i.theil_between end as theil_between,
    i.data_source
from indices as i
left join main.metric_definitions as d on d.metric = i.metric
