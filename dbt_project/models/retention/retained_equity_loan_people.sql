{#- The distinct-people counts of int_equity_loans (borrowers, renewing patrons, ...) for
    every municipality and frozen period, computed from the patron keys before the
    retention rule removed them (ingestion/retention.py). A period is frozen when it
    begins before the cutoff: every month before it, and every calendar year that begins
    before it (the cutoff never falls inside a year that has not ended, so such a year is
    complete and its counts final). Appended to by the retention step (var
    retention_cutoff) for periods not yet here; never rebuilt. -#}
{{ retained_people_counts('int_equity_loans_keyed', [
    'borrowers',
    'child_borrowers',
    'shared_loan_borrowers',
    'multi_municipality_borrowers',
    'own_item_borrowers',
    'non_resident_borrowers',
    'renewing_patrons',
]) }}
