{#- One row per reporting period (calendar month and calendar year) that the data
    touches, from the month of the first event to the month of the last. A period the
    data does not cover from its first to its last day is marked incomplete: its counts
    are not comparable with a full period's. -#}
with calendar as (

    select * from {{ ref('int_calendar') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

days_in_data as (

    select calendar.*
    from calendar
    cross join provenance
    where calendar.date_day >= {{ month_start('provenance.first_event_date') }}
      and calendar.date_day < {{ add_months(month_start('provenance.last_event_date'), 1) }}

),

months as (

    select
        'month' as period_type,
        month_start as period_start,
        {{ add_months('month_start', 1) }} as period_end,
        min(calendar_year) as period_year
    from days_in_data
    group by month_start

),

years as (

    select
        'year' as period_type,
        year_start as period_start,
        {{ add_months('year_start', 12) }} as period_end,
        min(calendar_year) as period_year
    from days_in_data
    group by year_start

),

periods as (

    select * from months
    union all
    select * from years

)

select
    periods.period_type,
    periods.period_start,
    periods.period_end,
    {{ add_days('periods.period_end', -1) }} as period_last_day,
    cast(periods.period_year as bigint) as period_year,
    -- The day whose state (membership, stock) stands for the period: its last day, or
    -- the last day with data when the period runs past it.
    case
        when {{ add_days('periods.period_end', -1) }} > provenance.last_event_date
            then provenance.last_event_date
        else {{ add_days('periods.period_end', -1) }}
    end as period_state_date,
    (
        periods.period_start >= provenance.first_event_date
        and {{ add_days('periods.period_end', -1) }} <= provenance.last_event_date
    ) as is_complete_period
from periods
cross join provenance
