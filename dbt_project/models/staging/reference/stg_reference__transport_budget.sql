{#- The region's yearly budget for the county media transport (the van), one row per year. -#}
with source as (

    select * from {{ source('reference', 'transport_budget') }}

)

select
    cast(year as bigint) as budget_year,
    cast(budget_sek as double) as budget_sek,
    is_estimate as budget_is_estimate,
    is_published as budget_is_published,
    cast(source_year as bigint) as budget_source_year,
    fill_rule as budget_fill_rule,
    source as budget_source
from source
