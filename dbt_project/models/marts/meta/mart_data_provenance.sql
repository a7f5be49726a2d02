{#- One row: what the data in this warehouse is. Every report shows from here whether
    the data is simulated, and if so the run's seed, scale, scenario and period
    (docs/metrics.md "Simulated data"), plus the window the data covers. -#}
select
    database_id,
    data_source,
    is_simulated,
    population_scale,
    simulation_seed,
    simulation_scenario,
    simulation_start_date,
    simulation_end_date,
    simulation_last_finished_day,
    first_event_date,
    last_event_date,
    snapshot_as_of_date,
    last_event_id,
    enlargement_date,
    enlargement_date_rule
from {{ ref('int_data_provenance') }}
