{#- The newest `date=` partition of a landed snapshot table, as a date literal, looked up
    when the staging view is built.

    A snapshot staging view marks the rows of the newest snapshot (`is_latest_snapshot`),
    and nearly every reader wants only those. Written as a window over every row
    (`max(date) over ()`), the mark made each reader scan, and hold in memory, every
    snapshot ever landed: with a snapshot a day that is days x catalogue size, the largest
    volume-driven cost of a nightly build (docs/scaling.md). As a constant, a filter on it
    (or on snapshot_date, the nightly test window of test_window.sql) prunes the Parquet
    scan to the partitions it needs.

    So the view describes the landing as of its build, as it already does for the
    landing's location; every build recreates the staging views first. Taken from the
    distinct partition dates rather than a bare max() of the column: DuckDB 1.5.5 answers
    that from statistics and fails with an internal error on a landing of one partition.
-#}
{% macro latest_landed_date(relation) -%}
    {%- if not execute -%}
        {{ return("cast(null as date)") }}
    {%- endif -%}
    {%- set found = run_query(
        "select max(landed_date) from (select distinct cast(date as date) as landed_date from "
        ~ relation ~ ") as partitions"
    ) -%}
    {%- set newest = found.columns[0].values()[0] if found is not none and found.rows | length > 0 else none -%}
    {%- if newest is none -%}
        {{ exceptions.raise_compiler_error("no snapshot partition landed in " ~ relation ~ ": run `bibbla ingest` first") }}
    {%- endif -%}
    {{ return("cast('" ~ (newest | string)[:10] ~ "' as date)") }}
{%- endmacro %}
