{#- The history of `patron` (one row per patron (pseudonymised, non-personal attributes only)): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'patron') }}

),

versions as (

    {{ history_versions('source', ['patron_key']) }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        valid_from,
        valid_to,
        patron_key,
        home_municipality_code,
        home_branch_code,
        category as patron_category,
        registered_at,
        age_band
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
