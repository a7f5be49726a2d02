{#- One row per ordered pair of different municipalities (the owner of the items, the
    borrower's home municipality) and calendar year: as
    mart_loans_between_municipalities_month, per year. -#}
{{ published_pair_mart('year') }}
