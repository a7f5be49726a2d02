{#- The scenario runs' exported files (`bibbla scenario run` writes one `run_year.parquet`
    per scenario and seed under BIBBLA_SCENARIOS/<name>/seed-<n>/, and beside it
    `advice_check.parquet` when the run made the baseline's collection advice). The folder
    is read when a model is built, never while the project is parsed (as the landing in
    landing_source.sql), and only on DuckDB: a warehouse without such runs, or another
    engine, gets an empty relation of the same shape. -#}
{% macro scenario_runs_files(file_name='run_year.parquet') %}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set folder = env_var('BIBBLA_SCENARIOS', '../data/scenarios') -%}
    {%- set pattern = folder ~ '/*/seed-*/' ~ file_name -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
    {%- if found.columns[0].values()[0] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(pattern) }}
{% endmacro %}
