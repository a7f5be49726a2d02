{#- One row per municipality with data in the lending core and calendar month: every
    per-municipality metric of docs/metrics.md, with its population, the population year used,
    and disclosure control applied (cells resting on 1-4 people are null and flagged, and
    so are the cells from which such a cell could be worked out; see int_equity_disclosure;
    rates on small denominators carry small_numbers_flag). Reports read this. -#}
{{ published_equity_mart('month') }}
