{#- The history of `van_route` (one row per van route): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'van_route') }}

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
        id as van_route_id,
        kind as van_route_kind,
        municipality_a,
        municipality_b,
        weekdays as van_weekdays
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
