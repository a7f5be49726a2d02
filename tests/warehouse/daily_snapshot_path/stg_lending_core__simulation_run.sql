{#- Every landed snapshot of `simulation_run` (one row per simulator run that filled the database, per as-of date), renamed and typed.
    `is_latest_snapshot` marks the copy with the greatest as-of date: the current state
    (LANDING.md). Older copies stay available for history. -#}
{%- set latest = latest_landed_date(source('lending_core', 'simulation_run')) %}
with source as (

    select * from {{ source('lending_core', 'simulation_run') }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        cast(date as date) as snapshot_date,
        id as simulation_run_id,
        seed,
        scale as population_scale,
        start_date as simulation_start_date,
        end_date as simulation_end_date,
        last_finished_day,
        scenario,
        parameters as simulation_parameters,
        created_at,
        updated_at
    from source

)

select
    *,
    {{ latest }} as latest_snapshot_date,
    snapshot_date = {{ latest }} as is_latest_snapshot
from renamed
