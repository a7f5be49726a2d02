{#- The distinct-people count of int_equity_holds (patrons who placed holds) for every
    municipality and frozen period, computed from the patron keys before the retention
    rule removed them. Frozen periods as in retained_equity_loan_people. Appended to by
    the retention step (var retention_cutoff) for periods not yet here; never rebuilt. -#}
{{ retained_people_counts('int_equity_holds_keyed', ['hold_patrons']) }}
