-- The member municipalities the lending core has data for (one report page each), with an
-- ASCII slug for the page address.
select
    municipality_code,
    municipality_name,
    lower(strip_accents(municipality_name)) as slug,
    is_member,
    first_joined_on,
    cohort,
    latest_population,
    latest_population_year
from main.dim_municipality
where has_lending_data
