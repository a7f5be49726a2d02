{#- One row per municipality and reporting period (month and year) with the loan counts
    behind the loan metrics of docs/metrics.md (int_equity_loans_keyed), where the counts of
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
{{ frozen_people_overlay('int_equity_loans_keyed', 'retained_equity_loan_people', columns) }}
