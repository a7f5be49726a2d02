{#- One row per event of the feed, de-duplicated on (database_id, event_id).
    Ingestion lands each event once; should a batch ever be landed twice, the copies are
    dropped here but counted in `landed_copies`, so the duplicates stay visible to the
    tests and to mart_data_quality instead of vanishing.
    Tested on a nightly build by event id, not by partition: the events above the
    watermark of the last build (macros/test_window.sql), wherever their date put them. -#}
{{ config(meta={'tested_partition_column': none, 'tested_new_event_column': 'event_id'}) }}

with source as (

    select * from {{ source('lending_core', 'circulation_event') }}

),

numbered as (

    select
        database_id,
        cast(id as bigint) as event_id,
        occurred_at,
        -- the local (Europe/Stockholm) date, from the Hive partition path: no time zone
        -- arithmetic in SQL, so DuckDB and Spark agree
        cast(date as date) as event_date,
        type as event_type,
        branch_code,
        item_id,
        title_id,
        patron_key,
        loan_id,
        hold_id,
        transport_id,
        from_branch_code,
        to_branch_code,
        due_at,
        reason as event_reason,
        details,
        count(*) over (partition by database_id, id) as landed_copies,
        row_number() over (
            partition by database_id, id order by date, occurred_at
        ) as copy_number
    from source

)

select
    database_id,
    event_id,
    occurred_at,
    event_date,
    event_type,
    branch_code,
    item_id,
    title_id,
    patron_key,
    loan_id,
    hold_id,
    transport_id,
    from_branch_code,
    to_branch_code,
    due_at,
    event_reason,
    details,
    -- type-specific extras from the JSON details (never personal data)
    {{ json_string('details', 'route') }} as transport_route,
    {{ json_string('details', 'category') }} as registered_patron_category,
    {{ json_string('details', 'home_municipality_code') }} as registered_home_municipality_code,
    cast(landed_copies as bigint) as landed_copies
from numbered
where copy_number = 1
