{#- Whether the landed events up to each database's newest event in the de-duplicated
    event table (stg_lending_core__circulation_event, built incrementally) are still what
    the table was built from: the same number of landed copies, over the same ids (the
    sum of the ids, each as often as it was landed). Then the events above it are all that
    is new. A copy landed twice or an event landed late below that point changes the
    fingerprint, and the build looks at every key. Reads the landing's two key columns.
    Returns each database's newest built event id ({database_id: id}), or none when the
    landing below it changed or holds a database the table does not (a landing holds one
    lending-core database; warehouse/build.py rebuilds from scratch when it changes). -#}
{% macro landed_below_watermark_unchanged() %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {#- a sum of ids needs more than 64 bits in principle: DuckDB's hugeint, else numeric -#}
    {%- set wide_integer = 'hugeint' if target.type == 'duckdb' else 'numeric' -%}
    {%- set found = run_query(
        "with built as (select database_id, max(event_id) as through_event_id,"
        ~ " sum(landed_copies) as copies,"
        ~ " sum(cast(event_id as " ~ wide_integer ~ ") * landed_copies) as id_sum"
        ~ " from " ~ this ~ " group by database_id),"
        ~ " landed as (select landed.database_id,"
        ~ " count(*) filter (where landed.id <= built.through_event_id) as copies,"
        ~ " sum(cast(landed.id as " ~ wide_integer ~ ")) filter (where landed.id <= built.through_event_id) as id_sum"
        ~ " from " ~ source('lending_core', 'circulation_event') ~ " as landed"
        ~ " left join built on built.database_id is not distinct from landed.database_id"
        ~ " group by landed.database_id)"
        ~ " select coalesce(built.database_id, landed.database_id), built.through_event_id,"
        ~ " built.database_id is not null and landed.copies is not distinct from built.copies"
        ~ " and landed.id_sum is not distinct from built.id_sum as unchanged"
        ~ " from built full join landed on landed.database_id is not distinct from built.database_id"
    ) -%}
    {%- set watermarks = {} -%}
    {%- for row in found.rows -%}
        {%- if not row[2] -%}
            {{ log("stg_lending_core__circulation_event: the landing of database " ~ row[0] ~ " changed below the newest built event (or is new); every key is compared", info=true) }}
            {{ return(none) }}
        {%- endif -%}
        {%- do watermarks.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(watermarks) }}
{% endmacro %}
