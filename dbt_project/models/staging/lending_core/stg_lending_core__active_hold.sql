{#- The history of `active_hold` (one row per hold waiting, in transit or ready): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'active_hold') }}

),

versions as (

    {{ history_versions('source', ['id']) }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        valid_from,
        valid_to,
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
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
