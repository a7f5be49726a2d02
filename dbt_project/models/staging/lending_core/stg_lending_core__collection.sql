{#- The history of `collection` (one row per collection): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'collection') }}

),

versions as (

    {{ history_versions('source', ['code']) }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        valid_from,
        valid_to,
        code as collection_code,
        name as collection_name,
        floats as collection_floats
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
