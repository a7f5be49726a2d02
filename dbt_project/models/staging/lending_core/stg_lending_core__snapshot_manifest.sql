{#- Every landed snapshot of `snapshot_manifest` (one row per snapshot (what the copies of one as-of date describe), per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{{ config(meta={'tested_partition_column': 'snapshot_date'}) }}
{%- set latest = latest_landed_date(source('lending_core', 'snapshot_manifest')) %}
with source as (

    select * from {{ source('lending_core', 'snapshot_manifest') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        as_of,
        as_of_rule,
        database_created_at,
        is_simulated,
        taken_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
