{#- Sources on the landing Parquet, for every target.

    DuckDB (dbt-duckdb) reads a source through its `meta.external_location`
    (`read_parquet(...)` with Hive partitioning): dbt's own `source()` already renders it.
    Spark has no such hook, so on Spark `source()` renders the folder that
    `meta.spark_location` names as a path table, ``parquet.`/landing/<table>` ``: Spark lists
    the folder on every query and reads the `date=YYYY-MM-DD` partitions from the path, as
    `read_parquet(..., hive_partitioning = true)` does (LANDING.md). `{landing}` and `{name}`
    are filled in as dbt-duckdb fills them into external_location. On a cluster the folder
    is an object-store URL (s3a://…, abfss://…) and nothing else changes.

    Everything else passes through to dbt's builtin, so lineage, freshness and the docs are
    unchanged. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if execute and target.type == 'spark' -%}
        {%- set node = graph.sources.get('source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name) -%}
        {%- set location = (node.meta or {}).get('spark_location') if node is not none else none -%}
        {%- if location -%}
            {%- set path = location | replace('{landing}', node.meta.get('landing', '')) | replace('{name}', node.name) -%}
            {{ return(api.Relation.create(
                schema='parquet',
                identifier=path,
                quote_policy={'database': false, 'schema': false, 'identifier': true},
            )) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
