{#- Every landed snapshot of `patron` (one row per patron (pseudonymised, non-personal attributes only), per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'patron')) %}
with source as (

    select * from {{ source('lending_core', 'patron') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        patron_key,
        home_municipality_code,
        home_branch_code,
        category as patron_category,
        registered_at,
        age_band
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
