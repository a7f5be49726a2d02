{#- One row per calendar day (vars calendar_start … calendar_end). -#}
select
    date_day,
    month_start,
    year_start,
    calendar_year,
    month_of_year,
    day_of_month,
    iso_weekday,
    iso_weekday >= 6 as is_weekend
from {{ ref('int_calendar') }}
