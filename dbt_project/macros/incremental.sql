{#- Incremental facts are written so that one SQL text serves both engines: an
    incremental run rebuilds *whole months* (every month holding an entity with a new
    event), so Spark can overwrite those month partitions (`insert_overwrite`, the only
    strategy dbt-spark has without Delta/Iceberg) while DuckDB deletes and re-inserts the
    same rows by key. Both give exactly what a full refresh gives. -#}
{% macro fact_incremental_strategy() -%}
    {{ return('insert_overwrite' if target.type == 'spark' else 'delete+insert') }}
{%- endmacro %}

{% macro fact_partition_by(column) -%}
    {{ return([column] if target.type == 'spark' else none) }}
{%- endmacro %}

{#- The highest event id already in an incremental model (in its column `column`):
    events above it are new. Ids are gap-free and commit-ordered within one lending-core
    database (LANDING.md), and a landing holds one database (warehouse/build.py rebuilds
    from scratch when it changes). -#}
{% macro fact_watermark(column='last_event_id') -%}
    (select coalesce(max({{ column }}), 0) from {{ this }})
{%- endmacro %}

{#- The CTEs that give a fact keyed by loan (hold) the events it is built from, ending in
    one named `events_cte`: all of them on a full build; on an incremental run the events
    of every entity begun (`begin_event_type`, in `month_column`) in a month to rebuild, a
    month holding an entity with a new event, or one built while its beginnings had
    patron keys that the landing no longer has (the retention rule removed them; the
    rebuild clears them from the fact too). Needs an `events` CTE before it. -#}
{% macro keyed_fact_events(id_column, begin_event_type, month_column, events_cte) %}
begin_months as (

    select
        {{ id_column }},
        {{ month_start('event_date') }} as {{ month_column }}
    from events
    where event_type = '{{ begin_event_type }}'

),

{% if is_incremental() %}

entities_with_new_events as (

    select distinct {{ id_column }}
    from events
    where event_id > {{ fact_watermark() }}

),

cleared_months as (

    select distinct built.{{ month_column }}
    from {{ this }} as built
    inner join events
        on events.{{ id_column }} = built.{{ id_column }}
        and events.event_type = '{{ begin_event_type }}'
    where built.patron_key is not null
      and events.patron_key is null

),

rebuilt_months as (

    select begin_months.{{ month_column }}
    from begin_months
    inner join entities_with_new_events
        on entities_with_new_events.{{ id_column }} = begin_months.{{ id_column }}

    union

    select {{ month_column }} from cleared_months

),

rebuilt_entities as (

    select begin_months.{{ id_column }}
    from begin_months
    inner join rebuilt_months
        on rebuilt_months.{{ month_column }} = begin_months.{{ month_column }}

),

{{ events_cte }} as (

    select events.*
    from events
    inner join rebuilt_entities on rebuilt_entities.{{ id_column }} = events.{{ id_column }}

)

{% else %}

{{ events_cte }} as (

    select * from events

)

{% endif %}
{% endmacro %}
