{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('period_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'period_start'}
) }}
{#- One row per municipality and reporting period with the hold counts behind
    hold_fill_rate and the wait-time percentiles of docs/metrics.md, for holds placed by its
    residents in the period (a cohort: a hold counts in the period it was placed, whatever
    happened to it later). Holds still open at the end of the data are counted, so the
    latest periods' fill rates rise as their holds are filled. `hold_patrons` is computed
    from the patron keys; int_equity_holds takes the frozen count for periods whose keys
    the retention rule has removed.
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the facts of those years. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with holds as (

    select * from {{ ref('fct_holds') }}
    where resident_municipality_code is not null
      and {{ in_rebuilt_years('placed_date') }}

),

holds_in_periods as (

    select 'month' as period_type, {{ month_start('placed_date') }} as period_start, holds.*
    from holds

    union all

    select 'year' as period_type, {{ year_start('placed_date') }} as period_start, holds.*
    from holds

)

select
    resident_municipality_code as municipality_code,
    period_type,
    period_start,
    cast(count(*) as bigint) as holds_placed,
    cast(count(distinct patron_key) as bigint) as hold_patrons,
    cast(sum(case when is_cancelled_by_patron_before_ready then 1 else 0 end) as bigint)
        as holds_cancelled_by_patron,
    cast(sum(case when became_ready then 1 else 0 end) as bigint) as holds_ready,
    cast(sum(case when hold_status in ('waiting', 'in_transit') then 1 else 0 end) as bigint)
        as holds_open,
    {{ percentile('case when became_ready then wait_days end', 0.5) }} as hold_wait_days_median,
    {{ percentile('case when became_ready then wait_days end', 0.9) }} as hold_wait_days_p90
from holds_in_periods
group by resident_municipality_code, period_type, period_start
