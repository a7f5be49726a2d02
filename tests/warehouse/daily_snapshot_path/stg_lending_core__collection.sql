{#- Every landed snapshot of `collection` (one row per collection, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'collection')) %}
with source as (

    select * from {{ source('lending_core', 'collection') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        code as collection_code,
        name as collection_name,
        floats as collection_floats
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
