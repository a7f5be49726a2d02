{#- One row per municipality of the county and reporting period: membership at the end
    of the period, the comparison cohort, and the population that per-capita figures
    divide by (docs/metrics.md): population_dec31 of the period's year, or of the nearest
    earlier year with a figure (flagged), times the simulation scale s when the data is
    simulated. -#}
with municipalities as (

    select * from {{ ref('stg_lending_core__municipality') }}
    where is_latest_snapshot

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

branches as (

    select * from {{ ref('stg_lending_core__branch') }}
    where is_latest_snapshot

),

periods as (

    select * from {{ ref('int_periods') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

population as (

    select * from {{ ref('stg_reference__population') }}

),

population_by_age as (

    select * from {{ ref('stg_reference__population_by_age') }}

),

-- Municipalities with at least one lending branch are the ones the lending core has
-- data for; the hub (Örebro's sorting point) lends nothing.
with_data as (

    select distinct municipality_code
    from branches
    where branch_kind <> 'hub'

),

-- The date that splits the cohorts: the day before the enlargement, or the first day
-- with data when nobody joined inside the data window.
cohort_day as (

    select
        coalesce(
            {{ add_days('enlargement_date', -1) }}, first_event_date
        ) as cohort_reference_date,
        enlargement_date
    from provenance

),

members_before_enlargement as (

    select distinct memberships.municipality_code
    from memberships
    cross join cohort_day
    where memberships.joined_on <= cohort_day.cohort_reference_date
      and (
          memberships.left_on is null
          or memberships.left_on > cohort_day.cohort_reference_date
      )

),

-- "The original four" (members before the enlargement) against "the five joiners"
-- (every other municipality with data); null for municipalities without data.
cohorts as (

    select
        municipalities.municipality_code,
        case
            when with_data.municipality_code is null then null
            when members_before_enlargement.municipality_code is not null
                then 'earlier_members'
            else 'joiners'
        end as cohort
    from municipalities
    left join with_data
        on municipalities.municipality_code = with_data.municipality_code
    left join members_before_enlargement
        on municipalities.municipality_code = members_before_enlargement.municipality_code

),

-- A joiner's join date: its first membership starting after the cohort reference day.
join_dates as (

    select
        memberships.municipality_code,
        min(memberships.joined_on) as joined_on
    from memberships
    cross join cohort_day
    where memberships.joined_on > cohort_day.cohort_reference_date
    group by memberships.municipality_code

),

municipality_periods as (

    select
        municipalities.municipality_code,
        municipalities.municipality_name,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.period_last_day,
        periods.period_year,
        periods.period_state_date,
        periods.is_complete_period
    from municipalities
    cross join periods

),

membership_at_state_date as (

    select
        municipality_periods.municipality_code,
        municipality_periods.period_type,
        municipality_periods.period_start,
        max(case when memberships.municipality_code is not null then 1 else 0 end) as is_member
    from municipality_periods
    left join memberships
        on memberships.municipality_code = municipality_periods.municipality_code
        and memberships.joined_on <= municipality_periods.period_state_date
        and (
            memberships.left_on is null
            or memberships.left_on > municipality_periods.period_state_date
        )
    group by
        municipality_periods.municipality_code,
        municipality_periods.period_type,
        municipality_periods.period_start

),

-- Nearest year with a figure at or before the period's year (the reference file already
-- carries published figures forward; this also covers years past its last row).
population_year_used as (

    select
        municipality_periods.municipality_code,
        municipality_periods.period_year,
        max(population.population_year) as population_year
    from (
        select distinct municipality_code, period_year from municipality_periods
    ) as municipality_periods
    inner join population
        on population.municipality_code = municipality_periods.municipality_code
        and population.population_year <= municipality_periods.period_year
    group by municipality_periods.municipality_code, municipality_periods.period_year

),

children as (

    select
        municipality_code,
        population_year,
        sum(population_dec31) as children_dec31
    from population_by_age
    where age_band = '0-15'
    group by municipality_code, population_year

)

select
    municipality_periods.municipality_code,
    municipality_periods.municipality_name,
    municipality_periods.period_type,
    municipality_periods.period_start,
    municipality_periods.period_end,
    municipality_periods.period_last_day,
    municipality_periods.period_year,
    municipality_periods.period_state_date,
    municipality_periods.is_complete_period,
    membership_at_state_date.is_member = 1 as is_member,
    with_data.municipality_code is not null as has_lending_data,
    cohorts.cohort,
    case when cohorts.cohort = 'joiners' then join_dates.joined_on end as cohort_joined_on,
    population.population_dec31 as population,
    population_year_used.population_year,
    population.population_source_year,
    -- carried forward: the figure is not the period year's own published one
    (
        population_year_used.population_year <> municipality_periods.period_year
        or not population.is_published
    ) as population_is_carried_forward,
    cast(children.children_dec31 as bigint) as children_population,
    provenance.population_scale,
    provenance.population_scale * population.population_dec31 as population_denominator,
    provenance.population_scale * children.children_dec31 as children_population_denominator,
    provenance.is_simulated,
    provenance.data_source
from municipality_periods
inner join membership_at_state_date
    on membership_at_state_date.municipality_code = municipality_periods.municipality_code
    and membership_at_state_date.period_type = municipality_periods.period_type
    and membership_at_state_date.period_start = municipality_periods.period_start
inner join cohorts
    on cohorts.municipality_code = municipality_periods.municipality_code
left join with_data
    on with_data.municipality_code = municipality_periods.municipality_code
left join join_dates
    on join_dates.municipality_code = municipality_periods.municipality_code
left join population_year_used
    on population_year_used.municipality_code = municipality_periods.municipality_code
    and population_year_used.period_year = municipality_periods.period_year
left join population
    on population.municipality_code = population_year_used.municipality_code
    and population.population_year = population_year_used.population_year
left join children
    on children.municipality_code = population_year_used.municipality_code
    and children.population_year = population_year_used.population_year
cross join provenance
