{{ config(
    materialized=period_materialization(),
    incremental_strategy='append',
    pre_hook="{{ clear_rebuilt_years('period_start') }}",
    on_schema_change='fail',
    tags=['period_aggregate'],
    meta={'tested_period_column': 'period_start'}
) }}
{#- One row per municipality and reporting period: transports dispatched in the period
    to or from its branches (docs/metrics.md transports_per_1000). A transport between two
    branches of the same municipality counts once for it.
    Incremental by year (macros/period_incremental.sql): a nightly build recomputes
    only the years in int_rebuilt_years, from the facts of those years. -#}
-- depends_on: {{ ref('int_rebuilt_years') }}
with transports as (

    select * from {{ ref('fct_transports') }}
    where dispatched_date is not null
      and {{ in_rebuilt_years('dispatched_date') }}

),

ends as (

    select transport_id, dispatched_date, from_municipality_code as municipality_code
    from transports

    union

    select transport_id, dispatched_date, to_municipality_code as municipality_code
    from transports

),

ends_in_periods as (

    select 'month' as period_type, {{ month_start('dispatched_date') }} as period_start, ends.*
    from ends

    union all

    select 'year' as period_type, {{ year_start('dispatched_date') }} as period_start, ends.*
    from ends

)

select
    municipality_code,
    period_type,
    period_start,
    cast(count(*) as bigint) as transports
from ends_in_periods
where municipality_code is not null
group by municipality_code, period_type, period_start
