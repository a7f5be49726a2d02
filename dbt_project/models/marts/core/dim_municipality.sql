{#- One row per municipality of Örebro county: its membership of the shared system (the
    timeline from the lending core), its comparison cohort and its latest population. -#}
with municipalities as (

    select * from {{ ref('stg_lending_core__municipality') }}
    where is_latest_snapshot

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

latest_period as (

    select *
    from {{ ref('int_municipality_periods') }}
    where period_type = 'month'
      and period_start = (
          select max(period_start)
          from {{ ref('int_periods') }}
          where period_type = 'month'
      )

),

membership_span as (

    select
        municipality_code,
        min(joined_on) as first_joined_on,
        max(case when left_on is null then 1 else 0 end) as has_open_membership,
        max(left_on) as last_left_on
    from memberships
    group by municipality_code

)

select
    municipalities.municipality_code,
    municipalities.municipality_name,
    municipalities.county_code,
    coalesce(latest_period.is_member, false) as is_member,
    membership_span.first_joined_on,
    case when membership_span.has_open_membership = 1 then null
        else membership_span.last_left_on end as left_on,
    coalesce(latest_period.has_lending_data, false) as has_lending_data,
    latest_period.cohort,
    case latest_period.cohort
        when 'earlier_members' then 'members before the enlargement'
        when 'joiners' then 'joined at the enlargement (or not yet)'
        else 'not in the lending core'
    end as cohort_label,
    latest_period.cohort_joined_on,
    latest_period.population as latest_population,
    latest_period.population_year as latest_population_year
from municipalities
left join membership_span
    on membership_span.municipality_code = municipalities.municipality_code
left join latest_period
    on latest_period.municipality_code = municipalities.municipality_code
