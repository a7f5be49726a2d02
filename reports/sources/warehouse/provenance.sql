-- What the data is: simulated or from the lending core, with the run's parameters and the
-- window it covers. Every page shows it (partials/datakalla.md).
select
    data_source,
    is_simulated,
    population_scale,
    simulation_seed,
    simulation_scenario,
    simulation_start_date,
    simulation_end_date,
    first_event_date,
    last_event_date,
    snapshot_as_of_date,
    enlargement_date
from main.mart_data_provenance
