{#- Every landed snapshot of `branch` (one row per branch, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'branch')) %}
with source as (

    select * from {{ source('lending_core', 'branch') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        code as branch_code,
        name as branch_name,
        municipality_code,
        kind as branch_kind,
        staffed_hours_per_week,
        staffless_hours_per_week,
        open_days,
        latitude,
        longitude
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
