{#- The history of `open_transport` (one row per transport neither received nor lost): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'open_transport') }}

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
        id as transport_id,
        item_id,
        from_branch_code,
        to_branch_code,
        reason as transport_reason,
        route as transport_route,
        hold_id,
        requested_at,
        dispatched_at
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
