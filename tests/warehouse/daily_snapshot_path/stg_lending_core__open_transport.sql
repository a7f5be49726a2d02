{#- Every landed snapshot of `open_transport` (one row per transport neither received nor lost, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'open_transport')) %}
with source as (

    select * from {{ source('lending_core', 'open_transport') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as transport_id,
        item_id,
        from_branch_code,
        to_branch_code,
        reason as transport_reason,
        route as transport_route,
        hold_id,
        requested_at,
        dispatched_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
