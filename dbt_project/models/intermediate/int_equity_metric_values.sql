{#- One row per municipality with data, reporting period and metric: the published value
    of each rate that inequality indices and the join comparison are computed on (null
    where the municipality's cell is suppressed), whether it is hidden (is_hidden: there
    is a value, but it rests on 1-4 people), its population weight (the inhabitants the
    rate is per; children for children_loans_per_child) and the municipality's membership
    and cohort. A null value that is not hidden (e.g. no holds placed) leaves the
    municipality out of that metric's index; a hidden one withholds every index and mean
    over a set it belongs to (macros/inequality.sql, mart_equity_join_did_month): computed
    without it, the index would silently cover fewer municipalities than it says, and
    computed with it, beside the others' published values and populations, it would give
    the hidden value back by subtraction. -#}
{%- set metrics = [
    ('loans_per_capita', 'population_denominator', true, 'borrowers'),
    ('renewals_per_capita', 'population_denominator', true, 'renewals'),
    ('active_borrower_share', 'population_denominator', true, 'borrowers'),
    ('stock_per_capita', 'population_denominator', true, none),
    ('accessible_stock_per_capita', 'population_denominator', true, none),
    ('hold_fill_rate', 'population_denominator', true, 'holds'),
    ('transports_per_1000', 'population_denominator', true, none),
    ('open_hours_per_1000', 'population', true, none),
    ('children_loans_per_child', 'children_population_denominator', true, 'children_loans'),
    ('shared_loan_share', 'population_denominator', false, 'shared_loans'),
] -%}
with periods as (

    select * from {{ ref('int_equity_municipality_period') }}

),

disclosure as (

    select * from {{ ref('int_equity_disclosure') }}

),

m as (

    select
        periods.*,
        {#- each group once: a column named twice is ambiguous on Spark and PostgreSQL -#}
        {%- set hidden_groups = [] -%}
        {%- for _, _, _, group in metrics -%}
        {%- if group and group not in hidden_groups %}{% do hidden_groups.append(group) %}{% endif -%}
        {%- endfor %}
        {% for group in hidden_groups -%}
        disclosure.{{ group }}_suppressed as {{ group }}_hidden{{ ',' if not loop.last }}
        {% endfor %}
    from periods
    inner join disclosure
        on disclosure.municipality_code = periods.municipality_code
        and disclosure.period_type = periods.period_type
        and disclosure.period_start = periods.period_start

)

{% for metric, weight, in_index, group in metrics %}
select
    period_type,
    period_start,
    period_year,
    period_last_day,
    is_complete_period,
    municipality_code,
    cohort,
    cohort_joined_on,
    is_member,
    '{{ metric }}' as metric,
    cast({{ weight }} as double) as weight,
    {% if group -%}
    case when {{ group }}_hidden then null else cast({{ metric }} as double) end as metric_value,
    coalesce({{ group }}_hidden and {{ metric }} is not null, false) as is_hidden,
    {%- else -%}
    cast({{ metric }} as double) as metric_value,
    false as is_hidden,
    {%- endif %}
    {{ 'true' if in_index else 'false' }} as is_index_metric,
    data_source
from m
{% if not loop.last %}
union all
{% endif %}
{% endfor %}
