{#- KB's national library statistics (bibstat): one row per library, year and variable.
    Hand-made example rows are marked is_example (only Population01 is real in them). -#}
with source as (

    select * from {{ source('reference', 'kb_library_statistics') }}

)

select
    municipality_code,
    cast(sample_year as bigint) as sample_year,
    library_id,
    library_name,
    target_group,
    variable as kb_variable,
    cast(value as double) as kb_value,
    observation_id,
    published as kb_published_at,
    modified as kb_modified_at,
    is_example,
    source_file
from source
