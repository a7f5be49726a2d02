-- Disclosure control in the marts reports read: no published count of people (or of
-- loans and holds resting on them) lies between 1 and 4. Cells that rest on 1-4 people
-- must be null with their *_suppressed flag set.
{%- set counted = ['loans', 'active_borrowers', 'renewals', 'child_loans', 'shared_loans',
                   'loans_of_own_items', 'loans_to_non_residents', 'holds_placed',
                   'holds_ready', 'holds_cancelled_by_patron', 'holds_open',
                   'multi_municipality_borrowers'] %}
{%- for mart in ['mart_equity_municipality_month', 'mart_equity_municipality_year'] %}
select '{{ mart }}' as mart, municipality_code, period_start
from {{ ref(mart) }}
where
    {%- for column in counted %}
    ({{ column }} > 0 and {{ column }} < {{ var('suppression_threshold') }}){% if not loop.last %} or{% endif %}
    {%- endfor %}
    or (borrowers_suppressed and (loans is not null or active_borrowers is not null
        or loans_per_capita is not null or active_borrower_share is not null))
    or (holds_suppressed and (hold_fill_rate is not null or hold_wait_days_median is not null))
{% if not loop.last %}union all{% endif %}
{%- endfor %}
