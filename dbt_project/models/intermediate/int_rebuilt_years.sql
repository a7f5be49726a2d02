{{ config(tags=['period_aggregate']) }}
{#- One row per calendar year whose period aggregates this build recomputes
    (macros/period_incremental.sql): every year with data on a first build, after
    `--full-refresh`, after the retention rule rewrote the landing
    (BIBBLA_REBUILD_ALL_PERIODS), when no watermark was recorded yet or it belongs to
    another lending-core database. Otherwise the years that changed since the recorded
    watermark (the last build that rebuilt every aggregate):
    - the years of the new events themselves (a renewal counts in the period it happened,
      a late event in its own, old, period);
    - the years counted in by every fact month the incremental facts rebuilt
      (macros/incremental.sql rebuilds whole months: every month holding a loan, hold or
      transport with a new event) whose rows changed in what the aggregates read
      (int_fact_month_fingerprints against the fingerprints kept at the watermark; every
      rebuilt month when none are kept);
    - every year from the one of the watermark's last event date on: the month that held
      the last day with data gets a new state date (int_periods), a year's transport
      budget covers a larger share of it, and a new month or year may begin. -#}
{%- set watermark = last_period_watermark() -%}
{%- set kept_fingerprints = kept_fact_month_fingerprints() -%}
{%- set everything = (not is_incremental_build()) or watermark is none or rebuild_all_periods_requested() -%}
-- depends_on: {{ ref('stg_lending_core__circulation_event') }}
-- depends_on: {{ ref('int_fact_month_fingerprints') }}
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

-- the fact months rebuilt now, against their fingerprints at the last recorded build
fingerprints as (

    select * from {{ ref('int_fact_month_fingerprints') }}

),

{% if kept_fingerprints is none %}

changed_months as (

    select first_year_start, last_year_start from fingerprints

),

{% else %}

changed_months as (

    select
        case
            when kept.first_year_start is null or kept.first_year_start > fingerprints.first_year_start
                then fingerprints.first_year_start
            else kept.first_year_start
        end as first_year_start,
        case
            when kept.last_year_start is null or kept.last_year_start < fingerprints.last_year_start
                then fingerprints.last_year_start
            else kept.last_year_start
        end as last_year_start
    from fingerprints
    left join {{ kept_fingerprints }} as kept
        on kept.fact = fingerprints.fact
        and kept.month_start = fingerprints.month_start
    where kept.fingerprint is null
       or kept.fingerprint <> fingerprints.fingerprint
       or kept.fact_rows <> fingerprints.fact_rows

),

{% endif %}

touched_years as (

    select distinct {{ year_start('event_date') }} as year_start from new_events

    union

    select years_with_data.year_start
    from years_with_data
    inner join changed_months
        on years_with_data.year_start >= coalesce(changed_months.first_year_start, changed_months.last_year_start)
        and years_with_data.year_start <= coalesce(changed_months.last_year_start, changed_months.first_year_start)

),

-- a watermark of another lending-core database says nothing about this one
watermark as (

    select
        {{ date_literal(watermark.through_event_date) }} as through_event_date,
        '{{ watermark.database_id }}' = provenance.database_id as is_this_database
    from provenance

),

rebuilt as (

    select touched_years.year_start
    from touched_years
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
