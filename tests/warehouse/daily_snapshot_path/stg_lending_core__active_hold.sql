{#- Every landed snapshot of `active_hold` (one row per hold waiting, in transit or ready, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'active_hold')) %}
with source as (

    select * from {{ source('lending_core', 'active_hold') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as hold_id,
        title_id,
        patron_key,
        pickup_branch_code,
        status as hold_status,
        placed_at,
        item_id,
        trapped_at,
        ready_at,
        expires_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
