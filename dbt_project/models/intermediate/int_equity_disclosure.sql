{#- One row per municipality with data and reporting period (month and year): whether
    each group of cells of the equity marts is published or hidden.

    Primary suppression: the cells rest on 1 to 4 people (equity_suppression_flags).

    Complementary suppression: a month's counts (loans, renewals, children's loans,
    shared loans, holds…) add up to the year's, so one hidden month in a year could be
    recovered as the year total minus the other months. Within each municipality, year
    and group, the months with the fewest people are hidden as well, until at least two
    months and cells resting on at least five people (counted month by month) are hidden;
    where the year has too few such months left, the year's cells are hidden instead.
    (Distinct-people counts such as active borrowers do not add up over months; the
    group's additive counts are what this protects.) -#}
{%- set threshold = var('suppression_threshold') -%}
{%- set groups = [
    ('borrowers', 'm.borrowers', true),
    ('renewals', 'm.renewing_patrons', true),
    ('children_loans', 'm.child_borrowers', true),
    ('shared_loans', 'm.shared_loan_borrowers', true),
    ('net_lending', 'least(m.shared_loan_borrowers, m.non_resident_borrowers)', true),
    ('collection_turnover', 'm.own_item_borrowers', true),
    ('holds', 'm.hold_patrons', true),
    ('multi_municipality', 'm.multi_municipality_borrowers', false),
] -%}
with m as (

    select * from {{ ref('int_equity_municipality_period') }}

),

primary_flags as (

    select
        m.municipality_code,
        m.period_type,
        m.period_start,
        m.period_year,
        {{ equity_suppression_flags() }},
        {% for group, people, _ in groups -%}
        coalesce({{ people }}, 0) as {{ group }}_people{{ ',' if not loop.last }}
        {% endfor %}
    from m

),

months as (

    {% for group, _, additive in groups if additive %}
    select
        municipality_code,
        period_year,
        period_start,
        '{{ group }}' as cell_group,
        {{ group }}_suppressed as is_primary,
        {{ group }}_people as people,
        (not {{ group }}_suppressed and {{ group }}_people > 0) as is_candidate
    from primary_flags
    where period_type = 'month'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ordered as (

    select
        months.*,
        sum(case when is_primary then 1 else 0 end)
            over (partition by municipality_code, period_year, cell_group) as primary_months,
        sum(case when is_primary then people else 0 end)
            over (partition by municipality_code, period_year, cell_group) as primary_people,
        sum(case when is_candidate then 1 else 0 end)
            over (partition by municipality_code, period_year, cell_group) as candidate_months,
        sum(case when is_candidate then people else 0 end)
            over (partition by municipality_code, period_year, cell_group) as candidate_people,
        row_number() over (
            partition by municipality_code, period_year, cell_group
            order by case when is_candidate then 0 else 1 end, people, period_start
        ) as candidate_rank,
        coalesce(sum(case when is_candidate then people else 0 end) over (
            partition by municipality_code, period_year, cell_group
            order by case when is_candidate then 0 else 1 end, people, period_start
            rows between unbounded preceding and 1 preceding
        ), 0) as people_before
    from months

),

month_cells as (

    select
        municipality_code,
        period_start,
        period_year,
        cell_group,
        is_primary or (
            is_candidate
            and primary_months > 0
            and (
                candidate_rank <= 2 - primary_months
                or primary_people + people_before < {{ threshold }}
            )
        ) as is_hidden,
        primary_months > 0 and (
            primary_months + candidate_months < 2
            or primary_people + candidate_people < {{ threshold }}
        ) as hides_year
    from ordered

),

month_flags as (

    select
        municipality_code,
        period_start,
        {% for group, _, additive in groups if additive -%}
        max(case when cell_group = '{{ group }}' and is_hidden then 1 else 0 end) = 1
            as {{ group }}_hidden{{ ',' if not loop.last }}
        {% endfor %}
    from month_cells
    group by municipality_code, period_start

),

year_flags as (

    select
        municipality_code,
        period_year,
        {% for group, _, additive in groups if additive -%}
        max(case when cell_group = '{{ group }}' and hides_year then 1 else 0 end) = 1
            as {{ group }}_hidden{{ ',' if not loop.last }}
        {% endfor %}
    from month_cells
    group by municipality_code, period_year

)

select
    p.municipality_code,
    p.period_type,
    p.period_start,
    {% for group, _, additive in groups -%}
    {%- if additive %}
    p.{{ group }}_suppressed or coalesce(
        case when p.period_type = 'month' then mf.{{ group }}_hidden else yf.{{ group }}_hidden end,
        false
    ) as {{ group }}_suppressed,
    p.{{ group }}_suppressed as {{ group }}_primary,
    {%- else %}
    p.{{ group }}_suppressed as {{ group }}_suppressed,
    p.{{ group }}_suppressed as {{ group }}_primary,
    {%- endif %}
    {% endfor %}
    p.period_year
from primary_flags as p
left join month_flags as mf
    on p.period_type = 'month'
    and mf.municipality_code = p.municipality_code
    and mf.period_start = p.period_start
left join year_flags as yf
    on p.period_type = 'year'
    and yf.municipality_code = p.municipality_code
    and yf.period_year = p.period_year
