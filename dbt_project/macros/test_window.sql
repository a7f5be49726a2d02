{#- Nightly builds test only the snapshot partitions that are new.

    Every ingestion run lands a whole snapshot of each snapshot table (items, patrons,
    titles, …) as a new `date=` partition (LANDING.md), and a landed partition never
    changes. Testing every partition again each night makes the nightly run grow with
    days x catalogue size: at three years of daily snapshots the data tests on the
    snapshot staging views were the largest single cost of a nightly build (docs/scaling.md).

    So a data test on a model whose meta names a `tested_partition_column` is limited to
    `column >= BIBBLA_TESTS_SINCE` when that variable is set. `bibbla warehouse build`
    (and the pipeline's dbt step) set it on an incremental build to the newest snapshot
    date the warehouse was last built from (mart_data_provenance; warehouse/build.py):
    that date's partition is tested again (a second ingestion on one day replaces it), as
    is everything landed since, including partitions of runs whose build failed, since the
    provenance only moves on a successful build. A full refresh, a first build and `dbt
    build` run by hand leave it unset and test everything.

    The snapshot staging views mark their newest partition with a constant
    (latest_landed_date.sql), so this filter prunes the Parquet scan to the partitions it
    names instead of reading every snapshot and dropping rows afterwards.

    The variable is read when the test runs, never while the project is parsed: dbt
    records every env_var() a file calls at parse time and parses that file again when the
    value changes, which here were the ten files that declare tests, 8-9 s of every nightly
    build (the date moves each night). So changing it costs no re-parse.

    Overrides dbt's own get_where_subquery (the same rendering of a test's `where` config,
    with the window and-ed to it).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window = tested_partition_window() -%}
    {%- if window -%}
        {%- do conditions.append(window) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- `column >= date 'since'` for a test on a model with a tested_partition_column, while
    BIBBLA_TESTS_SINCE is set; empty otherwise. -#}
{% macro tested_partition_window() -%}
    {#- not at parse time (execute is false then): see above -#}
    {%- if not execute -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set since = env_var('BIBBLA_TESTS_SINCE', '') -%}
    {%- if not since -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', since) -%}
        {{ exceptions.raise_compiler_error("BIBBLA_TESTS_SINCE must be a date (YYYY-MM-DD), got '" ~ since ~ "'") }}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set tested = graph.nodes.get(attached) if attached else none -%}
    {%- set meta = (tested.config.meta or {}) if tested is not none else {} -%}
    {%- set column = meta.get('tested_partition_column') -%}
    {%- if column -%}
        {%- do return(column ~ " >= cast('" ~ since ~ "' as date)") -%}
    {%- endif -%}
    {%- if meta.get('tested_period_column') -%}
        {%- do return(rebuilt_years_window(meta.get('tested_period_column'))) -%}
    {%- endif -%}
    {%- if meta.get('tested_new_event_column') -%}
        {%- do return(new_events_window(meta.get('tested_new_event_column'))) -%}
    {%- endif -%}
    {%- if meta.get('tested_rebuilt_month_column') -%}
        {%- do return(rebuilt_fact_months_window(meta.get('tested_rebuilt_month_column'), tested)) -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}


{#- A period aggregate (macros/period_incremental.sql) rebuilt only the years in
    int_rebuilt_years, which is upstream of it and so already rebuilt when its tests run:
    its rows of the other years are the ones earlier builds wrote and tested. -#}
{% macro rebuilt_years_window(column) -%}
    {%- do return(year_start(column) ~ " in (select year_start from " ~ model_relation('int_rebuilt_years') ~ ")") -%}
{%- endmacro %}


{#- An incremental fact rebuilt whole months (macros/incremental.sql): every month holding
    a row with an event newer than the watermark of the last build that rebuilt the
    period aggregates (build_state.period_watermark, never newer than the facts' own).
    Its tests look at those months; before the first recorded watermark, at everything. -#}
{% macro rebuilt_fact_months_window(column, tested) -%}
    {%- set watermark = last_period_watermark() -%}
    {%- if watermark is none -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set relation = api.Relation.create(database=tested.database, schema=tested.schema, identifier=tested.alias) -%}
    {%- do return(
        column ~ " in (select distinct " ~ column ~ " from " ~ relation
        ~ " where last_event_id > " ~ watermark.through_event_id ~ ")"
    ) -%}
{%- endmacro %}


{#- The event feed: every event is tested once, on the first build after it landed (ids
    are gap-free and commit-ordered, LANDING.md): those above the watermark of the last
    build that rebuilt the period aggregates (macros/period_incremental.sql); a late
    event lands in an old date partition but still has a new id. The view de-duplicates
    on the id, so uniqueness holds across all of history by construction. -#}
{% macro new_events_window(column) -%}
    {%- set watermark = last_period_watermark() -%}
    {%- if watermark is none -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(column ~ " > " ~ watermark.through_event_id) -%}
{%- endmacro %}
