{#- The lines of int_municipality_pair_disclosure (docs/metrics.md, "Between
    municipalities") in which a hidden cell could be worked out from a published total.
    A line with a published total (a pair's months add up to its year; an owner's pairs to
    its loans to non-residents; a borrower municipality's pairs to its residents' shared
    loans) is exposed when it hides exactly one cell, or several resting on fewer than
    threshold people, unless every cell of the line is hidden and rests on fewer than
    threshold people (then so does the total, which the equity marts hide). A pair's year
    hidden while all its months are published is exposed too.

    `fixable`: true gives the exposed lines that still had a cell the rule could hide (the
    passes did not reach the rule's fixed point); false those that had none left (every
    other cell is alone in its other line, so the equity marts' totals give the pair away
    by themselves). -#}
{% macro exposed_pair_lines(fixable) %}
{%- set threshold = var('suppression_threshold') %}
with pairs as (

    select * from {{ ref('int_municipality_pair_disclosure') }}

),

cells as (

    {% for group, people in [('loans', 'borrowers'), ('holds', 'hold_patrons')] %}
    select
        '{{ group }}' as cell_group,
        owner_municipality_code,
        borrower_municipality_code,
        period_type,
        period_start,
        {{ year_start('period_start') }} as year_start,
        {{ people }} as people,
        {{ group }}_suppressed as is_hidden,
        {{ group }}_protectable as is_protectable,
        {{ group }}_row_total_published as row_total_published,
        {{ group }}_column_total_published as column_total_published
    from pairs
    -- a zero that may not be hidden is known to be zero: it is not part of any sum
    where {{ people }} > 0 or {{ group }}_protectable
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{% for line, key in [('row', 'owner_municipality_code'), ('column', 'borrower_municipality_code')] %}
{{ line }}_lines as (

    select
        '{{ line }}' as line,
        cell_group,
        period_type,
        period_start,
        {{ key }} as municipality_code,
        sum(case when is_hidden then 1 else 0 end) as hidden_cells,
        sum(case when is_hidden then people else 0 end) as hidden_people,
        count(*) as cells,
        sum(case when is_protectable and not is_hidden then 1 else 0 end) as cells_left
    from cells
    where {{ line }}_total_published
    group by cell_group, period_type, period_start, {{ key }}

),
{% endfor %}

time_lines as (

    select
        cell_group,
        owner_municipality_code,
        borrower_municipality_code,
        year_start,
        max(case when period_type = 'year' and is_hidden then 1 else 0 end) = 1 as year_hidden,
        sum(case when period_type = 'month' and is_hidden then 1 else 0 end) as hidden_months,
        sum(case when period_type = 'month' and is_hidden then people else 0 end)
            as hidden_people,
        sum(case when period_type = 'month' and is_protectable and not is_hidden then 1 else 0 end)
            as months_left
    from cells
    group by cell_group, owner_municipality_code, borrower_municipality_code, year_start

),

partner_lines as (

    select * from row_lines
    union all
    select * from column_lines

)

select
    line, cell_group, period_type, period_start, municipality_code,
    cast(null as {{ dbt.type_string() }}) as partner_code
from partner_lines
where hidden_cells > 0
  and not (hidden_cells >= 2 and hidden_people >= {{ threshold }})
  and not (hidden_cells = cells and hidden_people < {{ threshold }})
  and {{ 'cells_left > 0' if fixable else 'cells_left = 0' }}

union all

select
    'months', cell_group, 'year', year_start, owner_municipality_code,
    borrower_municipality_code
from time_lines
where
{%- if fixable %}
    -- a year with too few months left to hide is hidden itself, so this is always fixable
    (not year_hidden and hidden_months > 0
        and not (hidden_months >= 2 and hidden_people >= {{ threshold }}))
    or (year_hidden and hidden_months = 0 and months_left > 0)
{%- else %}
    year_hidden and hidden_months = 0 and months_left = 0
{%- endif %}
{% endmacro %}
