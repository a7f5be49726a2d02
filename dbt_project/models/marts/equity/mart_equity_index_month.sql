{#- One row per calendar month, metric and scope: how unequal the municipalities are, as
    the population-weighted coefficient of variation, Gini, max/min ratio and Theil T with
    its decomposition between and within the two cohorts (the original four against the
    five joiners), by the formulas of metrics.md (macros/inequality.sql). Scope
    'members' takes the municipalities that are members at the end of the month (the last
    day with data for the current one); 'all_with_data' every municipality the lending
    core has data for. A falling index means service is becoming more equal. -#}
with metric_values as (

    select * from {{ ref('int_equity_metric_values') }}
    where period_type = 'month' and is_index_metric

),

scoped as (

    select 'members' as scope, metric_values.*
    from metric_values
    where is_member

    union all

    select 'all_with_data' as scope, metric_values.*
    from metric_values

),

{{ inequality_indices('scoped', ['period_start', 'metric', 'scope']) }},

periods as (

    select distinct period_start, period_year, is_complete_period, data_source
    from metric_values

)

select
    idx_result.period_start,
    periods.period_year as year,
    periods.is_complete_period,
    idx_result.metric,
    idx_result.scope,
    idx_result.municipalities,
    idx_result.total_weight as population_weight,
    idx_result.mean_value,
    idx_result.coefficient_of_variation,
    idx_result.gini,
    idx_result.max_min_ratio,
    idx_result.theil_t,
    idx_result.theil_within,
    idx_result.theil_between,
    idx_result.mean_earlier_members,
    idx_result.mean_joiners,
    idx_result.theil_earlier_members,
    idx_result.theil_joiners,
    idx_result.share_earlier_members,
    idx_result.share_joiners,
    periods.data_source
from idx_result
inner join periods on periods.period_start = idx_result.period_start
