{#- One row per ordered pair of municipalities (owner of the items, borrower's home
    municipality) and reporting period with the counts of int_municipality_pairs_keyed,
    where the counts of distinct people of a period frozen by the retention rule are the
    frozen ones (retained_municipality_pair_people): their patron keys are gone, or about
    to go, so counting them again would come up short. Loans and filled holds are counted
    from the facts, which keep each loan's and hold's municipalities after its key has
    gone. A pair without a frozen row in a frozen period counted nobody (zero). -#}
{%- set columns = [
    ('loans', false),
    ('borrowers', true),
    ('holds_filled', false),
    ('hold_patrons', true),
] -%}
{{ frozen_people_overlay(
    'int_municipality_pairs_keyed',
    'retained_municipality_pair_people',
    columns,
    keys=['owner_municipality_code', 'borrower_municipality_code'],
) }}
