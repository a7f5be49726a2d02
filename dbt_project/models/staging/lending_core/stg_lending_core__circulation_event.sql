{#- One row per event of the feed, de-duplicated on (database_id, event_id).
    Ingestion lands each event once; should a batch ever be landed twice, the copies are
    dropped here but counted in `landed_copies`, so the duplicates stay visible to the
    tests and to mart_data_quality instead of vanishing.
    Tested on a nightly build by event id, not by partition: the events above the
    watermark of the last build (macros/test_window.sql), wherever their date put them.

    A table, not a view, on the engines that can delete and insert (DuckDB, PostgreSQL):
    a dozen models and tests read the events, and as a view each of them read every landed
    file again and numbered the copies of every event (4-13 s apiece at full scale, and
    side by side in a build). Incremental: when the landing below the newest built event
    is what the table was built from (macros/event_table.sql compares the two), a build
    numbers only the events above it; otherwise every event whose key is not in the table
    yet, or that was landed more than once (its copies counted again). After the retention
    rule rewrote landed partitions (BIBBLA_REBUILD_ALL_PERIODS, warehouse/build.py) every
    event is numbered again, since their keys changed; assert_events_equal_the_landing
    fails if an event left the landing otherwise. Spark keeps the view (no delete). -#}
{{ config(
    materialized=('view' if target.type == 'spark' else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key=['database_id', 'event_id'],
    on_schema_change='fail',
    meta={'tested_partition_column': none, 'tested_new_event_column': 'event_id'},
) }}

with landed as (

    select * from {{ source('lending_core', 'circulation_event') }}

),

{% if is_incremental() and not rebuild_all_periods_requested() %}

{%- set watermarks = landed_below_watermark_unchanged() %}

{% if watermarks %}

-- What the table holds equals the landing up to each database's newest built event (the
-- same copies of the same ids): only the events above it are new. The ids are literals,
-- so the scan skips the files below them by their Parquet statistics, unread.
source as (

    {%- for database_id, through_event_id in watermarks.items() %}
    {{ 'union all' if not loop.first }}
    select *
    from landed
    where database_id = '{{ database_id | replace("'", "''") }}'
      and id > {{ through_event_id }}
    {%- endfor %}

),

{% else %}

-- Something changed below the newest built event (a copy landed twice, an event landed
-- late): number again every event whose key the table lacks or that has copies.
landed_keys as (

    select database_id, id, count(*) as copies
    from landed
    group by database_id, id

),

keys_to_number as (

    select landed_keys.database_id, landed_keys.id
    from landed_keys
    where landed_keys.copies > 1
       or not exists (
           select 1
           from {{ this }} as built
           where built.database_id = landed_keys.database_id
             and built.event_id = landed_keys.id
       )

),

source as (

    select landed.*
    from landed
    inner join keys_to_number
        on keys_to_number.database_id = landed.database_id
        and keys_to_number.id = landed.id

),

{% endif %}

{% else %}

source as (

    select * from landed

),

{% endif %}

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
