{#- The scenario runs' exported figures (`bibbla scenario run` writes one
    `run_year.parquet` per scenario and seed under BIBBLA_SCENARIOS/<name>/seed-<n>/). The
    folder is read when a model is built, never while the project is parsed (as the landing
    in landing_source.sql), and only on DuckDB: a warehouse without scenario runs, or
    another engine, gets an empty relation of the same shape. -#}
{% macro scenario_runs_files() %}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set folder = env_var('BIBBLA_SCENARIOS', '../data/scenarios') -%}
    {%- set pattern = folder ~ '/*/seed-*/run_year.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
    {%- if found.columns[0].values()[0] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(pattern) }}
{% endmacro %}
