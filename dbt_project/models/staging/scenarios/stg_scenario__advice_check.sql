{{ config(materialized="table") }}
{#- One row per scenario run that made the baseline's collection advice (`bibbla scenario
    run NAME --apply-advice DATE`): the advice's expected saving of hold waits on the moved
    titles against the saving simulated in the rerun, as the run exported it
    (advice_check.parquet, from `bibbla warehouse advice-check`). Empty until such a run
    exists (macros/scenario_runs.sql). -#}
{%- set pattern = scenario_runs_files('advice_check.parquet') %}
{%- set columns = [
    ('scenario', dbt.type_string()), ('seed', 'bigint'), ('scale', 'double'),
    ('start_date', 'date'), ('end_date', 'date'), ('moves_on', 'date'), ('until', 'date'),
    ('moves', 'bigint'), ('copies', 'bigint'), ('copies_moved', 'bigint'), ('titles', 'bigint'),
    ('baseline_holds', 'bigint'), ('rerun_holds', 'bigint'),
    ('baseline_wait_days', 'double'), ('rerun_wait_days', 'double'),
    ('predicted_wait_days_saved', 'double'), ('simulated_wait_days_saved', 'double'),
    ('baseline_hold_transports', 'bigint'), ('rerun_hold_transports', 'bigint'),
    ('predicted_transports_saved', 'double'),
    ('control_baseline_holds', 'bigint'), ('control_change_per_hold', 'double'),
] %}
{%- if pattern %}
select
    {%- for name, type in columns %}
    cast({{ adapter.quote(name) if name == 'until' else name }} as {{ type }}) as {{ 'until_date' if name == 'until' else name }}{{ ',' if not loop.last }}
    {%- endfor %}
from read_parquet('{{ pattern | replace("'", "''") }}', union_by_name = true)
{%- else %}
select
    {%- for name, type in columns %}
    cast(null as {{ type }}) as {{ 'until_date' if name == 'until' else name }}{{ ',' if not loop.last }}
    {%- endfor %}
where 1 = 0
{%- endif %}
