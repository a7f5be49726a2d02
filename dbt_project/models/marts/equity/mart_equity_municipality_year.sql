{#- One row per municipality with data in the lending core and calendar year: every
    per-municipality metric of metrics.md, with its population, the population year used,
    and disclosure control applied (cells resting on 1-4 people are null and flagged, and
    so are the cells from which such a cell could be worked out; see int_equity_disclosure;
    rates on small denominators carry small_numbers_flag). Reports read this. -#}
with m as (

    select * from {{ ref('int_equity_municipality_period') }}
    where period_type = 'year'

),

flagged as (

    -- primary and complementary suppression (int_equity_disclosure)
    select * from {{ ref('int_equity_disclosure') }}
    where period_type = 'year'

),

published as (

    select
        {{ published_equity_columns() }}
    from m
    inner join flagged as f
        on f.municipality_code = m.municipality_code
        and f.period_start = m.period_start

)

select
    published.*,
    small_numbers_reason is not null as small_numbers_flag
from published
