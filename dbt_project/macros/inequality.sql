{#- Population-weighted inequality across municipalities (docs/metrics.md): for each group of
    `keys`, with weights p_i and values x_i from `relation` (columns weight, metric_value,
    cohort), P = Σ p_i and μ = Σ p_i x_i / P:
      CV   = sqrt(Σ p_i (x_i − μ)² / P) / μ
      Gini = Σ_i Σ_j p_i p_j |x_i − x_j| / (2 P² μ)
      max/min ratio of x_i
      Theil T = Σ (p_i/P)(x_i/μ) ln(x_i/μ) = within + between, with, per cohort g,
        within  = Σ_g s_g T_g,  between = Σ_g s_g ln(μ_g/μ),  s_g = P_g μ_g / (P μ).
    A term with x_i = 0 contributes 0 to Theil (the limit of x ln x). Rows with a null
    value or no weight are left out. Outputs are rounded to 6 decimals: more than any
    report shows, and what the unit tests compare against. -#}
{% macro inequality_indices(relation, keys) %}
{%- set key_list = keys | join(', ') -%}
idx_base as (

    select {{ key_list }}, municipality_code, cohort, weight, metric_value
    from {{ relation }}
    where metric_value is not null and weight > 0

),

idx_totals as (

    select
        {{ key_list }},
        count(*) as municipalities,
        sum(weight) as total_weight,
        sum(weight * metric_value) / sum(weight) as mean_value,
        max(metric_value) as max_value,
        min(metric_value) as min_value
    from idx_base as base
    group by {{ key_list }}

),

idx_cohorts as (

    select
        {{ key_list }},
        cohort,
        sum(weight) as cohort_weight,
        sum(weight * metric_value) / sum(weight) as cohort_mean
    from idx_base as base
    group by {{ key_list }}, cohort

),

idx_terms as (

    select
        {% for key in keys %}base.{{ key }}, {% endfor %}
        base.cohort,
        base.weight,
        base.metric_value,
        totals.total_weight,
        totals.mean_value,
        cohorts.cohort_weight,
        cohorts.cohort_mean,
        case when base.metric_value > 0 and totals.mean_value > 0
            then (base.weight / totals.total_weight) * (base.metric_value / totals.mean_value)
                 * {{ natural_log('base.metric_value / totals.mean_value') }}
            else 0 end as theil_term,
        case when base.metric_value > 0 and cohorts.cohort_mean > 0
            then (base.weight / cohorts.cohort_weight) * (base.metric_value / cohorts.cohort_mean)
                 * {{ natural_log('base.metric_value / cohorts.cohort_mean') }}
            else 0 end as cohort_theil_term
    from idx_base as base
    inner join idx_totals as totals on {{ join_on_keys('base', 'totals', keys) }}
    inner join idx_cohorts as cohorts on {{ join_on_keys('base', 'cohorts', keys) }} and base.cohort = cohorts.cohort

),

idx_dispersion as (

    select
        {{ key_list }},
        sum(weight * (metric_value - mean_value) * (metric_value - mean_value))
            / max(total_weight) as weighted_variance,
        sum(theil_term) as theil_t
    from idx_terms
    group by {{ key_list }}

),

idx_cohort_theil as (

    select
        {{ key_list }},
        cohort,
        max(cohort_weight) * max(cohort_mean) / (max(total_weight) * max(mean_value))
            as cohort_share,
        max(cohort_mean) as cohort_mean,
        sum(cohort_theil_term) as cohort_theil,
        max(mean_value) as mean_value
    from idx_terms
    where mean_value > 0
    group by {{ key_list }}, cohort

),

idx_decomposition as (

    select
        {{ key_list }},
        sum(cohort_share * cohort_theil) as theil_within,
        sum(case when cohort_mean > 0
            then cohort_share * {{ natural_log('cohort_mean / mean_value') }}
            else 0 end) as theil_between,
        max(case when cohort = 'earlier_members' then cohort_mean end)
            as mean_earlier_members,
        max(case when cohort = 'joiners' then cohort_mean end) as mean_joiners,
        max(case when cohort = 'earlier_members' then cohort_theil end)
            as theil_earlier_members,
        max(case when cohort = 'joiners' then cohort_theil end) as theil_joiners,
        max(case when cohort = 'earlier_members' then cohort_share end)
            as share_earlier_members,
        max(case when cohort = 'joiners' then cohort_share end) as share_joiners
    from idx_cohort_theil
    group by {{ key_list }}

),

idx_pairs as (

    select
        {% for key in keys %}a.{{ key }}, {% endfor %}
        sum(a.weight * b.weight
            * case when a.metric_value > b.metric_value then a.metric_value - b.metric_value
                   else b.metric_value - a.metric_value end) as weighted_abs_differences
    from idx_base as a
    inner join idx_base as b on {{ join_on_keys('a', 'b', keys) }}
    group by {% for key in keys %}a.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}

),

idx_result as (

    select
    {% for key in keys %}totals.{{ key }}, {% endfor %}
    cast(totals.municipalities as bigint) as municipalities,
    totals.total_weight,
    round(totals.mean_value, 6) as mean_value,
    round(case when totals.mean_value > 0
        then sqrt(dispersion.weighted_variance) / totals.mean_value end, 6)
        as coefficient_of_variation,
    round(case when totals.mean_value > 0
        then pairs.weighted_abs_differences
             / (2 * totals.total_weight * totals.total_weight * totals.mean_value) end, 6)
        as gini,
    round(case when totals.min_value > 0 then totals.max_value / totals.min_value end, 6)
        as max_min_ratio,
    round(case when totals.mean_value > 0 then dispersion.theil_t end, 6) as theil_t,
    round(decomposition.theil_within, 6) as theil_within,
    round(decomposition.theil_between, 6) as theil_between,
    round(decomposition.mean_earlier_members, 6) as mean_earlier_members,
    round(decomposition.mean_joiners, 6) as mean_joiners,
    round(decomposition.theil_earlier_members, 6) as theil_earlier_members,
    round(decomposition.theil_joiners, 6) as theil_joiners,
    round(decomposition.share_earlier_members, 6) as share_earlier_members,
    round(decomposition.share_joiners, 6) as share_joiners
from idx_totals as totals
inner join idx_dispersion as dispersion on {{ join_on_keys('totals', 'dispersion', keys) }}
inner join idx_pairs as pairs on {{ join_on_keys('totals', 'pairs', keys) }}
left join idx_decomposition as decomposition on {{ join_on_keys('totals', 'decomposition', keys) }}

)
{% endmacro %}

{#- `left.k1 = right.k1 and left.k2 = right.k2 …` for a list of key columns. -#}
{% macro join_on_keys(left, right, keys) -%}
    {%- for key in keys %}{{ left }}.{{ key }} = {{ right }}.{{ key }}{% if not loop.last %} and {% endif %}{% endfor -%}
{%- endmacro %}

{#- The body of mart_equity_index_month and mart_equity_index_year, which differ only in
    the period (`period_type`: month or year): the indices above over the published
    per-municipality values of that period, for members and for every municipality with
    data. An index over a set of which one municipality's value is hidden (it rests on
    1-4 people) is withheld: computed without it, it would silently cover fewer
    municipalities than the scope says; computed with it, beside the others' published
    values and populations, it would give the hidden value back. A withheld row keeps the
    number of municipalities it would have covered, how many of them are hidden, and why.
    For a year, members_joined_in_period counts the members in scope that joined during
    it: their yearly values include the months before they joined. -#}
{% macro equity_index_mart(period_type) %}
with metric_values as (

    select * from {{ ref('int_equity_metric_values') }}
    where period_type = '{{ period_type }}' and is_index_metric

),

scoped as (

    select 'members' as scope, metric_values.*
    from metric_values
    where is_member

    union all

    select 'all_with_data' as scope, metric_values.*
    from metric_values

),

-- every municipality in scope with a value for the metric, published or hidden
coverage as (

    select
        period_start,
        metric,
        scope,
        count(*) as municipalities,
        sum(case when is_hidden then 1 else 0 end) as hidden_municipalities,
        sum(weight) as population_weight,
        sum(case when cohort_joined_on > period_start and cohort_joined_on <= period_last_day
            then 1 else 0 end) as members_joined_in_period,
        min(case when cohort_joined_on > period_start and cohort_joined_on <= period_last_day
            then cohort_joined_on end) as first_join_in_period
    from scoped
    where (metric_value is not null or is_hidden) and weight > 0
    group by period_start, metric, scope

),

{{ inequality_indices('scoped', ['period_start', 'metric', 'scope']) }},

periods as (

    select distinct period_start, period_year, is_complete_period, data_source
    from metric_values

),

indices as (

    select
        coverage.*,
        coverage.hidden_municipalities > 0 as is_withheld,
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
        idx_result.share_joiners
    from coverage
    left join idx_result
        on idx_result.period_start = coverage.period_start
        and idx_result.metric = coverage.metric
        and idx_result.scope = coverage.scope

)

select
    indices.period_start,
    periods.period_year as year,
    periods.is_complete_period,
    indices.metric,
    indices.scope,
    cast(indices.municipalities as bigint) as municipalities,
    cast(indices.hidden_municipalities as bigint) as hidden_municipalities,
    indices.is_withheld,
    case when indices.is_withheld
        then 'a municipality in scope has a value resting on fewer than '
             || cast({{ var('suppression_threshold') }} as {{ dbt.type_string() }})
             || ' people: the index would give it back'
    end as withheld_reason,
    cast(indices.members_joined_in_period as bigint) as members_joined_in_period,
    indices.first_join_in_period,
    indices.population_weight,
    {%- for column in ['mean_value', 'coefficient_of_variation', 'gini', 'max_min_ratio',
                       'theil_t', 'theil_within', 'theil_between', 'mean_earlier_members',
                       'mean_joiners', 'theil_earlier_members', 'theil_joiners',
                       'share_earlier_members', 'share_joiners'] %}
    case when not indices.is_withheld then indices.{{ column }} end as {{ column }},
    {%- endfor %}
    periods.data_source
from indices
inner join periods on periods.period_start = indices.period_start
{% endmacro %}
