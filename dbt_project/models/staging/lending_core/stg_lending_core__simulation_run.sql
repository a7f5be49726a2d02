{#- The history of `simulation_run` (one row per simulator run that filled the database): one row per version, renamed and typed.
    A version is valid from `valid_from` until `valid_to` (exclusive; null while
    current), from the changes landed (LANDING.md, macros/history.sql).
    `is_latest_snapshot` marks the current state; `valid_on(d)` the state on a date d. -#}
with source as (

    select * from {{ source('lending_core', 'simulation_run') }}

),

versions as (

    {{ history_versions('source', ['id']) }}

),

renamed as (

    select
        database_id,
        cast(snapshot_event_id as bigint) as snapshot_event_id,
        valid_from,
        valid_to,
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
    from versions

)

select
    *,
    valid_to is null as is_latest_snapshot
from renamed
