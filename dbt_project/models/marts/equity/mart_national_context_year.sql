{#- One row per municipality of the county and year in KB's national library statistics
    (bibstat): yearly context, the only place non-members (Degerfors, Karlskoga, Örebro)
    appear. A municipality's figure is the sum over its public libraries; Population01 is
    taken once (max), never summed (reference/kb_bibstat/README.md). Rows from the
    hand-made example files say data_source = 'example data'. Never a control group for
    the monthly figures (docs/metrics.md). -#}
with observations as (

    select * from {{ ref('stg_reference__kb_library_statistics') }}

),

municipalities as (

    select * from {{ ref('stg_lending_core__municipality') }}
    where is_latest_snapshot

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

per_municipality as (

    select
        municipality_code,
        sample_year,
        sum(case when kb_variable = 'Utlan399' then kb_value end) as kb_loans,
        sum(case when kb_variable = 'Bestand199' then kb_value end) as kb_stock,
        sum(case when kb_variable = 'Aktiv99' then kb_value end) as kb_active_borrowers,
        sum(case when kb_variable = 'Besok01' then kb_value end) as kb_visits,
        max(case when kb_variable = 'Population01' then kb_value end) as kb_population,
        count(distinct library_id) as libraries,
        -- a municipality-year is example data if any of its rows is
        max(case when is_example then 1 else 0 end) as has_example_rows
    from observations
    group by municipality_code, sample_year

),

membership_at_year_end as (

    select
        per_municipality.municipality_code,
        per_municipality.sample_year,
        max(case
            when memberships.joined_on <= {{ year_end_date('per_municipality.sample_year') }}
             and (memberships.left_on is null
                  or memberships.left_on > {{ year_end_date('per_municipality.sample_year') }})
            then 1 else 0 end) as is_member,
        max(case when memberships.municipality_code is not null then 1 else 0 end)
            as has_membership
    from per_municipality
    left join memberships
        on memberships.municipality_code = per_municipality.municipality_code
    group by per_municipality.municipality_code, per_municipality.sample_year

)

select
    per_municipality.municipality_code,
    municipalities.municipality_name,
    cast(per_municipality.sample_year as bigint) as year,
    membership_at_year_end.is_member = 1 as is_member_at_year_end,
    case
        when membership_at_year_end.is_member = 1 then 'member'
        when membership_at_year_end.has_membership = 1 then 'member later or earlier'
        else 'non-member'
    end as membership_role,
    cast(per_municipality.libraries as bigint) as libraries,
    per_municipality.kb_loans,
    per_municipality.kb_stock,
    per_municipality.kb_active_borrowers,
    per_municipality.kb_visits,
    per_municipality.kb_population,
    {{ safe_divide('per_municipality.kb_loans', 'per_municipality.kb_population') }}
        as kb_loans_per_capita,
    {{ safe_divide('per_municipality.kb_stock', 'per_municipality.kb_population') }}
        as kb_stock_per_capita,
    {{ safe_divide('per_municipality.kb_active_borrowers', 'per_municipality.kb_population') }}
        as kb_active_borrower_share,
    {{ safe_divide('per_municipality.kb_visits', 'per_municipality.kb_population') }}
        as kb_visits_per_capita,
    per_municipality.has_example_rows = 1 as is_example,
    case when per_municipality.has_example_rows = 1 then 'example data'
        else 'national statistics' end as data_source
from per_municipality
inner join membership_at_year_end
    on membership_at_year_end.municipality_code = per_municipality.municipality_code
    and membership_at_year_end.sample_year = per_municipality.sample_year
left join municipalities
    on municipalities.municipality_code = per_municipality.municipality_code
