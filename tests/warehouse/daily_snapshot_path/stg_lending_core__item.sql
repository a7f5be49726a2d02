{#- Every landed snapshot of `item` (one row per item (physical copy), per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'item')) %}
with source as (

    select * from {{ source('lending_core', 'item') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as item_id,
        barcode,
        title_id,
        home_branch_code,
        current_branch_code,
        status as item_status,
        added_at,
        withdrawn_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
