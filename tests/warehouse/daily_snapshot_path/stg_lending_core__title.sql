{#- Every landed snapshot of `title` (one row per title, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'title')) %}
with source as (

    select * from {{ source('lending_core', 'title') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as title_id,
        isbn,
        title,
        author,
        year as publication_year,
        media_type,
        language,
        audience,
        collection_code,
        added_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
