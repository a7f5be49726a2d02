{#- One row per item: its newest event among those that move or use a copy
    (macros/collection_advice.sql, item_movement_event_types) and the branch it left the
    copy at. What int_collection_idle_copies reads for the advice of the last day with
    events.

    Incremental on DuckDB/PostgreSQL: a build reads only the events above the newest one
    kept here (ids grow with the feed's commit order, LANDING.md), and an item with one
    of them gets its row replaced. Numbering the newest of 6.3 million item events was
    the largest node of the nightly build at full scale (6.6 s of 24.7, docs/scaling.md).
    Everything again on a full refresh and after the retention rule's rewrite
    (BIBBLA_REBUILD_ALL_PERIODS); a plain table on Spark. -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key='item_id',
    on_schema_change='fail',
) }}

{%- set since_last_build = is_incremental() and not rebuild_all_periods_requested() %}

with events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}

)

{{ newest_item_movement(
    'events',
    where=('event_id > ' ~ fact_watermark('event_id')) if since_last_build else 'true'
) }}
