{#- One row per patron (pseudonymised key): home municipality, category and age band.
    The registration event carries the home municipality and category the patron had
    when the card was issued; the newest patron snapshot the current ones and the age
    band. The lending core has no change-of-residence use case, so the two agree (the
    test patron_home_municipality_unchanged warns if they ever do not), and the home
    municipality at any loan date is the one here. A registration whose patron key the
    retention rule has removed (ingestion/retention.py) places nobody: such a patron is
    known from the newest snapshot alone (registered_* are then null). -#}
with registrations as (

    select
        patron_key,
        event_date as registered_date,
        branch_code as registered_branch_code,
        registered_home_municipality_code,
        registered_patron_category
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'patron_registered'
      and patron_key is not null

),

current_patrons as (

    select * from {{ ref('stg_lending_core__patron') }}
    where is_latest_snapshot

),

keys as (

    select patron_key from registrations
    union
    select patron_key from current_patrons

)

select
    keys.patron_key,
    coalesce(
        current_patrons.home_municipality_code,
        registrations.registered_home_municipality_code
    ) as home_municipality_code,
    registrations.registered_home_municipality_code,
    current_patrons.home_branch_code,
    coalesce(current_patrons.patron_category, registrations.registered_patron_category)
        as patron_category,
    current_patrons.age_band,
    registrations.registered_date
from keys
left join registrations on registrations.patron_key = keys.patron_key
left join current_patrons on current_patrons.patron_key = keys.patron_key
