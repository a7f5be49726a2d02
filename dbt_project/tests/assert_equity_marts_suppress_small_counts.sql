-- Disclosure control in the marts reports read: no published count of people (or of
-- loans and holds resting on them: the var people_counts) lies between 1 and
-- threshold-1. Cells that rest on 1-4 people must be null with their *_suppressed flag set.
{%- for mart in ['mart_equity_municipality_month', 'mart_equity_municipality_year'] %}
select '{{ mart }}' as mart, municipality_code, period_start
from {{ ref(mart) }}
where
    {%- for column in var('people_counts') %}
    {{ is_small_count(column) }}{% if not loop.last %} or{% endif %}
    {%- endfor %}
    or (borrowers_suppressed and (loans is not null or active_borrowers is not null
        or loans_per_capita is not null or active_borrower_share is not null))
    or (holds_suppressed and (hold_fill_rate is not null or hold_wait_days_median is not null))
{% if not loop.last %}union all{% endif %}
{%- endfor %}
