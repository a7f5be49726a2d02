{#- Every landed snapshot of `circulation_rule` (one row per media type and patron category, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'circulation_rule')) %}
with source as (

    select * from {{ source('lending_core', 'circulation_rule') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        media_type,
        patron_category,
        loan_days,
        loan_days_when_queued,
        max_renewals,
        max_loans
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
