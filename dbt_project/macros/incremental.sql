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

{#- The highest event id already in an incremental fact: events above it are new. Ids
    are gap-free and commit-ordered within one lending-core database (LANDING.md), and a
    landing holds one database (bibbla/warehouse.py rebuilds from scratch when it changes). -#}
{% macro fact_watermark() -%}
    (select coalesce(max(last_event_id), 0) from {{ this }})
{%- endmacro %}
