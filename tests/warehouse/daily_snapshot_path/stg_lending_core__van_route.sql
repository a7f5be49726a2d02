{#- Every landed snapshot of `van_route` (one row per van route, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'van_route')) %}
with source as (

    select * from {{ source('lending_core', 'van_route') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as van_route_id,
        kind as van_route_kind,
        municipality_a,
        municipality_b,
        weekdays as van_weekdays
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
