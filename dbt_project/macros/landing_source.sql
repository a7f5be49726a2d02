{#- Sources on the landing Parquet, for every target.

    DuckDB (dbt-duckdb) reads a source through its `meta.external_location`
    (`read_parquet(...)` with Hive partitioning): dbt's own `source()` already renders it.
    Spark has no such hook, so on Spark `source()` renders the folder that
    `meta.spark_location` names as a path table, ``parquet.`/landing/<table>` ``: Spark lists
    the folder on every query and reads the `date=YYYY-MM-DD` partitions from the path, as
    `read_parquet(..., hive_partitioning = true)` does (LANDING.md). `{name}` is filled in
    as dbt-duckdb fills it into external_location. On a cluster the folder is an
    object-store URL (s3a://…, abfss://…) and nothing else changes.

    The landing folder itself (`{landing}`) is filled in here, from BIBBLA_LANDING, when a
    model is built, never while the project is parsed: dbt parses again every file whose
    env_var() values changed, and for the source files that means every model and test
    that reads a source, 6-9 s of CPU whenever a build reads another landing than the last
    one (each benchmark lab, each test's copy). The sources' meta holds `{landing}` as it
    is, so dbt-duckdb leaves it for this macro. The default serves a bare `dbt` run from
    this folder on the default data directory, as in profiles.yml.

    Everything else passes through to dbt's builtin, so lineage, freshness and the docs are
    unchanged. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set landing = env_var('BIBBLA_LANDING', '../data/landing') -%}
    {%- if target.type == 'spark' -%}
        {%- set node = graph.sources.get('source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name) -%}
        {%- set location = (node.meta or {}).get('spark_location') if node is not none else none -%}
        {%- if location -%}
            {%- set path = location | replace('{landing}', landing) | replace('{name}', node.name) -%}
            {{ return(api.Relation.create(
                schema='parquet',
                identifier=path,
                quote_policy={'database': false, 'schema': false, 'identifier': true},
            )) }}
        {%- endif -%}
    {%- endif -%}
    {%- if relation.external and '{landing}' in relation.external -%}
        {{ return(relation.incorporate(external=relation.external | replace('{landing}', landing))) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
