{#- One row per calendar year whose period aggregates this build recomputes
    (macros/period_incremental.sql): every year with data on a first build, after
    `--full-refresh`, after the retention rule rewrote the landing
    (BIBBLA_REBUILD_ALL_PERIODS), when no watermark was recorded yet or it belongs to
    another lending-core database. Otherwise the years that changed since the recorded
    watermark (the last build that rebuilt every aggregate):
    - the years of the new events themselves (a renewal counts in the period it happened,
      a late event in its own, old, period);
    - the years of every fact month the incremental facts rebuilt (macros/incremental.sql
      rebuilds whole months: every month holding a loan, hold or transport with a new
      event, recognised by its last_event_id), and for transports, which the facts key
      by the month requested, also the years they were dispatched in;
    - every year from the one of the watermark's last event date on: the month that held
      the last day with data gets a new state date (int_periods), a year's transport
      budget covers a larger share of it, and a new month or year may begin. -#}
{%- set watermark = last_period_watermark() -%}
{%- set everything = (not is_incremental_build()) or watermark is none or rebuild_all_periods_requested() -%}
-- depends_on: {{ ref('stg_lending_core__circulation_event') }}
-- depends_on: {{ ref('fct_loans') }}
-- depends_on: {{ ref('fct_holds') }}
-- depends_on: {{ ref('fct_transports') }}
with provenance as (

    select * from {{ ref('int_data_provenance') }}

),

years_with_data as (

    select distinct period_start as year_start
    from {{ ref('int_periods') }}
    where period_type = 'year'

),

{% if everything %}

rebuilt as (

    select year_start from years_with_data

)

{% else %}

new_events as (

    select event_date
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_id > {{ watermark.through_event_id }}

),

rebuilt_loan_months as (

    select distinct checkout_month as month_start
    from {{ ref('fct_loans') }}
    where last_event_id > {{ watermark.through_event_id }}

),

rebuilt_hold_months as (

    select distinct placed_month as month_start
    from {{ ref('fct_holds') }}
    where last_event_id > {{ watermark.through_event_id }}

),

rebuilt_transport_months as (

    select distinct requested_month
    from {{ ref('fct_transports') }}
    where last_event_id > {{ watermark.through_event_id }}

),

rebuilt_transports as (

    select transports.requested_month, transports.dispatched_date
    from {{ ref('fct_transports') }} as transports
    inner join rebuilt_transport_months
        on rebuilt_transport_months.requested_month = transports.requested_month

),

touched_dates as (

    select event_date as touched_date from new_events
    union
    select month_start from rebuilt_loan_months
    union
    select month_start from rebuilt_hold_months
    union
    select requested_month from rebuilt_transports
    union
    select dispatched_date from rebuilt_transports where dispatched_date is not null

),

-- a watermark of another lending-core database says nothing about this one
watermark as (

    select
        {{ date_literal(watermark.through_event_date) }} as through_event_date,
        '{{ watermark.database_id }}' = provenance.database_id as is_this_database
    from provenance

),

rebuilt as (

    select distinct {{ year_start('touched_date') }} as year_start
    from touched_dates
    cross join watermark
    where watermark.is_this_database

    union

    select years_with_data.year_start
    from years_with_data
    cross join watermark
    where years_with_data.year_start >= {{ year_start('watermark.through_event_date') }}
       or not watermark.is_this_database

)

{% endif %}

select rebuilt.year_start
from rebuilt
inner join years_with_data on years_with_data.year_start = rebuilt.year_start
