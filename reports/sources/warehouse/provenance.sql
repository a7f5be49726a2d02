-- What the data is: simulated or from the lending core, with the run's parameters and the
-- window it covers, and the same in plain Swedish for the notice every page shows
-- (partials/datakalla.md): the share of the population in words, the scenario in words.
select
    data_source,
    is_simulated,
    population_scale,
    case
        when population_scale >= 0.9995 then 'hela befolkningen'
        when abs(population_scale - 0.5) < 0.0005 then 'halva befolkningen'
        when abs(population_scale - 0.25) < 0.0005 then 'en fjärdedel av befolkningen'
        when abs(population_scale - 0.2) < 0.0005 then 'en femtedel av befolkningen'
        when abs(population_scale - 0.1) < 0.0005 then 'en tiondel av befolkningen'
        else replace(regexp_replace(cast(round(population_scale * 100, 1) as varchar), '\.0$', ''), '.', ',')
             || ' procent av befolkningen'
    end as population_scale_sv,
    simulation_seed,
    simulation_scenario,
    case
        when simulation_scenario = 'baseline'
            then 'utan ändringar – medlemskapen som i verkligheten'
        when simulation_scenario = 'no_join'
            then 'de fem nya kommunerna ansluter aldrig'
        when simulation_scenario like 'membership:%'
            then 'ändrade medlemskap (' || substr(simulation_scenario, 12) || ')'
        else simulation_scenario
    end as simulation_scenario_sv,
    simulation_start_date,
    simulation_end_date,
    first_event_date,
    last_event_date,
    snapshot_as_of_date,
    enlargement_date
from main.mart_data_provenance
