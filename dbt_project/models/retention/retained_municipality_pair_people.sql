{#- The distinct-people counts of int_municipality_pairs (borrowers, and patrons whose
    holds were filled) for every pair of municipalities and frozen period, computed from
    the patron keys before the retention rule removed them. Frozen periods as in
    retained_equity_loan_people. Appended to by the retention step (var retention_cutoff)
    for periods not yet here; never rebuilt. -#}
{{ retained_people_counts(
    'int_municipality_pairs_keyed',
    ['borrowers', 'hold_patrons'],
    keys=['owner_municipality_code', 'borrower_municipality_code'],
) }}
