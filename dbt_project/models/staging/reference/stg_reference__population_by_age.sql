{#- Inhabitants per municipality, year and age band (31 December); same fill rule as
    stg_reference__population. -#}
with source as (

    select * from {{ source('reference', 'population_by_age') }}

)

select
    municipality_code,
    cast(year as bigint) as population_year,
    age_band,
    cast(population_dec31 as bigint) as population_dec31,
    is_published,
    cast(source_year as bigint) as population_source_year,
    fill_rule as population_fill_rule,
    source as population_source
from source
