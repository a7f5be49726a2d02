{#- One row per ordered pair of two different municipalities with data and reporting period
    (month and year) in which the owner's items could have gone to the other's residents:
    both were members at the end of the period (a municipality outside the shared system
    lends to no one else and borrows from no one else, which a reader knows from the
    membership timeline). The pair marts publish every such pair, with zeros, so that a
    hidden cell does not tell whether anything went between the two
    (int_municipality_pair_disclosure). -#}
with municipality_periods as (

    select municipality_code, period_type, period_start
    from {{ ref('int_municipality_periods') }}
    where has_lending_data and is_member

)

select
    owner.municipality_code as owner_municipality_code,
    borrower.municipality_code as borrower_municipality_code,
    owner.period_type,
    owner.period_start
from municipality_periods as owner
inner join municipality_periods as borrower
    on borrower.period_type = owner.period_type
    and borrower.period_start = owner.period_start
    and borrower.municipality_code <> owner.municipality_code
