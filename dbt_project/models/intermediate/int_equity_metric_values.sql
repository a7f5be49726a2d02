{#- One row per municipality with data, reporting period and metric: the unsuppressed
    value of each rate that inequality indices and the join comparison are computed on,
    with its population weight (the inhabitants the rate is per; children for
    children_loans_per_child) and the municipality's membership and cohort. A null value
    (e.g. no holds placed) leaves the municipality out of that metric's index. -#}
{%- set metrics = [
    ('loans_per_capita', 'population_denominator', true),
    ('renewals_per_capita', 'population_denominator', true),
    ('active_borrower_share', 'population_denominator', true),
    ('stock_per_capita', 'population_denominator', true),
    ('accessible_stock_per_capita', 'population_denominator', true),
    ('hold_fill_rate', 'population_denominator', true),
    ('transports_per_1000', 'population_denominator', true),
    ('open_hours_per_1000', 'population', true),
    ('children_loans_per_child', 'children_population_denominator', true),
    ('shared_loan_share', 'population_denominator', false),
] -%}
with m as (

    select * from {{ ref('int_equity_municipality_period') }}

)

{% for metric, weight, in_index in metrics %}
select
    period_type,
    period_start,
    period_year,
    is_complete_period,
    municipality_code,
    cohort,
    cohort_joined_on,
    is_member,
    '{{ metric }}' as metric,
    cast({{ weight }} as double) as weight,
    cast({{ metric }} as double) as metric_value,
    {{ 'true' if in_index else 'false' }} as is_index_metric,
    data_source
from m
{% if not loop.last %}
union all
{% endif %}
{% endfor %}
