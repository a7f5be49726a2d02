{{ config(materialized="table") }}
{#- One row per scenario run (scenario × seed), year, municipality ('all' for the
    consortium) and metric: each run's mart_scenario_run_year as `bibbla scenario run`
    exported it, with the run's name, seed and period. Empty until a scenario has been run
    (macros/scenario_runs.sql). -#}
{%- set pattern = scenario_runs_files() %}
{%- if pattern %}
select
    cast(scenario as {{ dbt.type_string() }}) as scenario,
    cast(seed as bigint) as seed,
    cast(scale as double) as scale,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(year as bigint) as year,
    cast(municipality_code as {{ dbt.type_string() }}) as municipality_code,
    cast(municipality_name as {{ dbt.type_string() }}) as municipality_name,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(metric_value as double) as metric_value,
    cast(is_suppressed as boolean) as is_suppressed
from read_parquet('{{ pattern | replace("'", "''") }}', union_by_name = true)
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as scenario,
    cast(null as bigint) as seed,
    cast(null as double) as scale,
    cast(null as date) as start_date,
    cast(null as date) as end_date,
    cast(null as bigint) as year,
    cast(null as {{ dbt.type_string() }}) as municipality_code,
    cast(null as {{ dbt.type_string() }}) as municipality_name,
    cast(null as {{ dbt.type_string() }}) as metric,
    cast(null as double) as metric_value,
    cast(null as boolean) as is_suppressed
where 1 = 0
{%- endif %}
