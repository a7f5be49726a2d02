{#- One row: what the landed data is and the window it covers. Every mart takes its
    `data_source` label, the simulation scale and the data window from here, so that
    simulated data is never shown as real (docs/metrics.md, "Simulated data"). -#}
with events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}

),

manifest as (

    select * from {{ ref('stg_lending_core__snapshot_manifest') }}
    where is_latest_snapshot

),

runs as (

    select * from {{ ref('stg_lending_core__simulation_run') }}
    where is_latest_snapshot

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

event_window as (

    select
        min(database_id) as database_id,
        count(distinct database_id) as database_count,
        min(event_date) as first_event_date,
        max(event_date) as last_event_date,
        max(event_id) as last_event_id
    from events

),

-- The run that filled the database last; a database is normally filled by one run.
latest_run as (

    select
        simulation_run_id,
        seed,
        population_scale,
        simulation_start_date,
        simulation_end_date,
        last_finished_day,
        scenario
    from (
        select
            runs.*,
            row_number() over (order by simulation_run_id desc) as run_rank
        from runs
    ) as ranked
    where run_rank = 1

),

-- The first join inside the data window: the enlargement whose effect the marts compare.
first_join_in_data as (

    select min(memberships.joined_on) as joined_on
    from memberships
    cross join event_window
    where memberships.joined_on > event_window.first_event_date

)

select
    event_window.database_id,
    cast(event_window.database_count as bigint) as database_count,
    event_window.first_event_date,
    event_window.last_event_date,
    event_window.last_event_id,
    manifest.snapshot_date as snapshot_as_of_date,
    manifest.as_of as snapshot_as_of,
    coalesce(manifest.is_simulated, latest_run.simulation_run_id is not null) as is_simulated,
    case
        when coalesce(manifest.is_simulated, latest_run.simulation_run_id is not null)
            then 'simulated'
        else 'lending core'
    end as data_source,
    -- Real data counts every inhabitant; simulated data a share s of them.
    coalesce(latest_run.population_scale, 1.0) as population_scale,
    latest_run.simulation_run_id,
    latest_run.seed as simulation_seed,
    latest_run.scenario as simulation_scenario,
    latest_run.simulation_start_date,
    latest_run.simulation_end_date,
    latest_run.last_finished_day as simulation_last_finished_day,
    {% if var('enlargement_date') %}
    {{ date_literal(var('enlargement_date')) }} as enlargement_date,
    'configured (var enlargement_date)' as enlargement_date_rule
    {% else %}
    first_join_in_data.joined_on as enlargement_date,
    'first join after the first event date' as enlargement_date_rule
    {% endif %}
from event_window
cross join first_join_in_data
left join manifest on 1 = 1
left join latest_run on 1 = 1
