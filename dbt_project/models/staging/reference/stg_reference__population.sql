{#- Inhabitants per municipality and year (31 December). Years without a published figure
    carry the nearest earlier one forward (is_published = false), the rule of docs/metrics.md. -#}
with source as (

    select * from {{ source('reference', 'population') }}

)

select
    municipality_code,
    cast(year as bigint) as population_year,
    cast(population_dec31 as bigint) as population_dec31,
    is_published,
    cast(source_year as bigint) as population_source_year,
    fill_rule as population_fill_rule,
    source as population_source
from source
