{#- One row per ordered pair of different municipalities (the owner of the items, the
    borrower's home municipality) and calendar month in which both were members (zeros
    included: int_municipality_pair_grid) or the owner's items went to the other's
    residents: loans, borrowers, holds filled and the patrons behind them,
    with disclosure control applied (cells resting on 1-4 people are null and flagged,
    and so are the cells from which one could be worked out: across the months of a year
    and across the partners of a municipality; see int_municipality_pair_disclosure).
    The municipality pages read this ("who lends to whom"). -#}
{{ published_pair_mart('month') }}
