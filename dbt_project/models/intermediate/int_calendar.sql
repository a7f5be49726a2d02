{#- One row per day of the calendar the warehouse works in (vars calendar_start and
    calendar_end, which cover the consortium's lifetime and some years beyond). -#}
with days as (

    {{ dbt.date_spine(
        datepart='day',
        start_date=date_literal(var('calendar_start')),
        end_date=date_literal(var('calendar_end'))
    ) }}

)

select
    cast(date_day as date) as date_day,
    {{ month_start('cast(date_day as date)') }} as month_start,
    {{ year_start('cast(date_day as date)') }} as year_start,
    cast(extract(year from date_day) as bigint) as calendar_year,
    cast(extract(month from date_day) as bigint) as month_of_year,
    cast(extract(day from date_day) as bigint) as day_of_month,
    {{ iso_weekday('cast(date_day as date)') }} as iso_weekday
from days
