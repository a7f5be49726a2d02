{#- Every landed snapshot of `open_loan` (one row per loan not yet returned, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'open_loan')) %}
with source as (

    select * from {{ source('lending_core', 'open_loan') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as loan_id,
        item_id,
        patron_key,
        branch_code as checkout_branch_code,
        checked_out_at,
        due_at,
        renewals,
        hold_id
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
