{#- The history of `circulation_rule` (one row per media type and patron category): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'circulation_rule') }}

),

versions as (

    {{ history_versions('source', ['media_type', 'patron_category']) }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        valid_from,
        valid_to,
        media_type,
        patron_category,
        loan_days,
        loan_days_when_queued,
        max_renewals,
        max_loans
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
