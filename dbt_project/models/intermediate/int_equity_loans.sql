{#- One row per municipality and reporting period (month and year) with the loan counts
    behind the loan metrics of metrics.md (int_equity_loans_keyed), where the counts of
    distinct people of a period frozen by the retention rule are the frozen ones
    (retained_equity_loan_people): their patron keys are gone, or about to go, so counting
    them again would come up short. Every other count is computed from the facts, which
    keep each loan's municipalities and category after its key has gone. -#}
{%- set columns = [
    ('loans', false),
    ('borrowers', true),
    ('child_loans', false),
    ('child_borrowers', true),
    ('shared_loans', false),
    ('shared_loan_borrowers', true),
    ('multi_municipality_borrowers', true),
    ('loans_of_own_items', false),
    ('own_item_borrowers', true),
    ('loans_to_non_residents', false),
    ('non_resident_borrowers', true),
    ('renewals', false),
    ('renewing_patrons', true),
] -%}
with computed as (

    select * from {{ ref('int_equity_loans_keyed') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

-- frozen counts of this lending-core database (a rebuilt one starts again)
frozen as (

    select retained.*
    from {{ ref('retained_equity_loan_people') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

frozen_periods as (

    select distinct period_type, period_start from frozen

)

select
    computed.municipality_code,
    computed.period_type,
    computed.period_start,
    {%- for column, is_people in columns %}
    {% if is_people -%}
    {{ frozen_or_computed(column) }} as {{ column }}
    {%- else -%}
    computed.{{ column }}
    {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
from computed
left join frozen_periods
    on frozen_periods.period_type = computed.period_type
    and frozen_periods.period_start = computed.period_start
left join frozen
    on frozen.municipality_code = computed.municipality_code
    and frozen.period_type = computed.period_type
    and frozen.period_start = computed.period_start
