{#- Incremental period aggregates: the models that count the facts per municipality (pair,
    route) and reporting period rebuild only the calendar years a nightly build touched.

    Why whole years: every aggregate has a row per year beside its rows per month, and a
    year's distinct-people counts (borrowers, patrons) need every fact of that year, not
    only the new ones; the complementary suppression downstream also works across the
    months of a year, and the "one card" KPI counts year to date. So the unit rebuilt is
    the year: `int_rebuilt_years` names the years to rebuild, each aggregate reads only
    the facts of those years, deletes its rows of those years (a pre-hook, in the same
    transaction as the insert) and appends the recomputed ones. A nightly build's work is
    then the current year's facts (two years in early January or after a late event),
    whatever the length of the history. A first build, `--full-refresh` and a target that
    cannot do this (Spark: `period_materialization()` gives a table there) compute every
    year, exactly as before.

    The years to rebuild come from what changed since the last build that rebuilt every
    aggregate successfully: its watermark (the landing's last event id and date, and the
    lending-core database) is kept in `build_state.period_watermark` by the on-run-end
    hook `record_period_watermark`, only when every model tagged `period_aggregate` ran
    successfully in that invocation and nothing in it failed (a test included); a build
    that failed half-way, or a partial selection, leaves the previous watermark, so the
    next build rebuilds (and tests) the years of both. -#}

{% macro period_watermark_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='build_state', identifier='period_watermark')) }}
{%- endmacro %}

{% macro fact_month_fingerprint_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='build_state', identifier='fact_month_fingerprint')) }}
{%- endmacro %}


{#- The fact months' fingerprints kept at the watermark (int_fact_month_fingerprints), as a
    relation, or none before they were first kept. -#}
{% macro kept_fact_month_fingerprints() -%}
    {%- if not execute or target.type == 'spark' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = fact_month_fingerprint_relation() -%}
    {{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}


{#- A model's relation by name, from the graph (for hooks and tests, which cannot ref()
    what they do not depend on). -#}
{% macro model_relation(name) -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {%- do found.append(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -%}
    {%- endfor -%}
    {{ return(found[0]) }}
{%- endmacro %}


{#- Incremental on the engines that can delete and append in one transaction (DuckDB,
    PostgreSQL); a table elsewhere (Spark's plain Parquet tables have neither delete nor a
    per-year overwrite that fits every aggregate's grain). -#}
{% macro period_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}


{#- The last recorded watermark as a dict (through_event_id, through_event_date,
    database_id), or none: before the first recorded build, or outside execution. -#}
{% macro last_period_watermark() -%}
    {#- Spark builds the aggregates as tables and keeps no build state -#}
    {%- if not execute or target.type == 'spark' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = period_watermark_relation() -%}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select through_event_id, cast(through_event_date as varchar), database_id from "
        ~ existing ~ " order by recorded_at desc, through_event_id desc limit 1"
    ) -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set row = found.rows[0] -%}
    {{ return({'through_event_id': row[0], 'through_event_date': row[1], 'database_id': row[2]}) }}
{%- endmacro %}


{#- Whether this build must rebuild every year of the aggregates although they exist:
    BIBBLA_REBUILD_ALL_PERIODS is set by `bibbla warehouse build` after the retention
    rule rewrote landed partitions (warehouse/build.py), since a fact can then change
    without a new event. Read at run time only, so the value never triggers a re-parse. -#}
{% macro rebuild_all_periods_requested() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(env_var('BIBBLA_REBUILD_ALL_PERIODS', '') not in ('', '0', 'false')) }}
{%- endmacro %}


{#- Whether this build keeps what it can (not `--full-refresh`). -#}
{% macro is_incremental_build() -%}
    {{ return(not flags.FULL_REFRESH) }}
{%- endmacro %}


{#- `column` (a date) falls in a year to rebuild: on an incremental run, the filter each
    aggregate puts on the facts it reads; `true` otherwise. -#}
{% macro in_rebuilt_years(column) -%}
    {%- if is_incremental() -%}
        {{ year_start(column) }} in (select year_start from {{ ref('int_rebuilt_years') }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- The pre-hook of an incremental period aggregate: delete its rows of the years to
    rebuild, so that a period (or a municipality in it) that no longer has a row does not
    keep its old one; the model's rows of those years are then appended. -#}
{% macro clear_rebuilt_years(period_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ year_start(period_column) }} in (select year_start from {{ ref('int_rebuilt_years') }})
    {%- endif -%}
{%- endmacro %}


{#- on-run-end: record the watermark the period aggregates are now built through, when
    every one of them (tag period_aggregate) succeeded in this invocation. -#}
{% macro record_period_watermark(results) -%}
    {#- only commands that build models (compile and docs generate report every node a
        success without building it) -#}
    {%- if not execute or target.type == 'spark' or flags.WHICH not in ('build', 'run') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set aggregates = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and 'period_aggregate' in node.tags -%}
            {%- do aggregates.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set succeeded = [] -%}
    {%- set failed = [] -%}
    {%- for result in results -%}
        {%- if result.node.unique_id in aggregates and result.status == 'success' -%}
            {%- do succeeded.append(result.node.unique_id) -%}
        {%- endif -%}
        {%- if result.status in ('error', 'fail', 'runtime error', 'skipped') -%}
            {%- do failed.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- a failed test or model keeps the old watermark: the nightly tests look only at
        what is new since the watermark (macros/test_window.sql), so what failed is
        rebuilt and tested again by the next build, and fails there too until it is fixed -#}
    {%- if aggregates | length == 0 or succeeded | length < aggregates | length or failed -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = period_watermark_relation() -%}
    {%- set fingerprints = fact_month_fingerprint_relation() -%}
    {%- set built = model_relation('int_fact_month_fingerprints') -%}
    {#- one statement per call: not every adapter runs several in one -#}
    {%- do run_query("create schema if not exists " ~ relation.schema) -%}
    {%- do run_query(
        "create table if not exists " ~ fingerprints ~ " as select * from " ~ built ~ " where 1 = 0"
    ) -%}
    {#- the months fingerprinted now replace theirs; all of them after a build of every month -#}
    {%- do run_query(
        "delete from " ~ fingerprints ~ " where exists (select 1 from " ~ built
        ~ " as built where built.covers_every_month or (built.fact = " ~ fingerprints
        ~ ".fact and built.month_start = " ~ fingerprints ~ ".month_start))"
    ) -%}
    {%- do run_query("insert into " ~ fingerprints ~ " select * from " ~ built) -%}
    {%- do run_query(
        "create table if not exists " ~ relation ~ " (through_event_id bigint, "
        ~ "through_event_date date, database_id varchar, recorded_at timestamp)"
    ) -%}
    {%- do run_query("delete from " ~ relation) -%}
    {%- do run_query(
        "insert into " ~ relation ~ " select last_event_id, last_event_date, database_id, "
        ~ "current_timestamp from " ~ model_relation('int_data_provenance')
    ) -%}
    {%- if target.type == 'postgres' -%}
        {%- do run_query('commit') -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
