{#- One row per calendar year, municipality ('all' for the consortium as a whole) and
    metric: the figures a scenario comparison sets side by side (docs/metrics.md,
    "Scenarios"), in long form, so every warehouse gives the same shape for the run it
    holds. `bibbla scenario run` exports it from each scenario's warehouse and
    mart_scenario_comparison compares the exports. Values resting on fewer than five
    people are null with is_suppressed set, by the equity marts' rule (they come from
    them, or are suppressed here by the same macro).

    Per municipality: loans_per_capita, hold_wait_days_median, hold_wait_days_p90 (from
    mart_equity_municipality_year), holds_filled_elsewhere_share, transports (dispatched
    to or from its branches), van_runs and van_cost_sek. For 'all': transports, van_runs,
    van_cost_sek, van_budget_sek, van_cost_budget_share, and the inequality of
    loans_per_capita across the members (loans_per_capita_cv, _gini, _theil from
    mart_equity_index_year, scope members). -#}
with municipality_year as (

    select * from {{ ref('mart_equity_municipality_year') }}

),

holds as (

    select * from {{ ref('fct_holds') }}
    where became_ready

),

transports as (

    select * from {{ ref('fct_transports') }}
    where dispatched_date is not null

),

index_year as (

    select * from {{ ref('mart_equity_index_year') }}
    where metric = 'loans_per_capita' and scope = 'members'

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

budgets as (

    select * from {{ ref('stg_reference__transport_budget') }}

),

county_routes as (

    select * from {{ ref('stg_lending_core__van_route') }}
    where is_latest_snapshot

),

county as (

    select count(*) as county_municipalities
    from {{ ref('stg_lending_core__municipality') }}
    where is_latest_snapshot

),

municipalities as (

    select municipality_code, municipality_name from {{ ref('dim_municipality') }}

),

-- The cost of one van run (one municipality served on one van day) from the reference
-- data: the year's budget over the runs it pays for, 52 weeks of the hub van's weekdays
-- at each of the county's municipalities plus the direct vans' weekdays at both ends.
run_cost as (

    select
        budgets.budget_year,
        budgets.budget_sek,
        budgets.budget_sek / planned.planned_runs as cost_per_run_sek
    from budgets
    cross join (
        select
            52 * sum(
                length(county_routes.van_weekdays)
                * case when county_routes.van_route_kind = 'hub'
                    then county.county_municipalities else 2 end
            ) as planned_runs
        from county_routes
        cross join county
    ) as planned

),

-- The share of each calendar year the data covers (a budget is compared pro rata).
years as (

    select distinct
        year,
        period_start as year_start,
        cast({{ date_diff_days(
            'case when period_start > provenance.first_event_date '
            ~ 'then period_start else provenance.first_event_date end',
            'case when ' ~ add_months('period_start', 12) ~ ' <= provenance.last_event_date '
            ~ 'then ' ~ add_months('period_start', 12)
            ~ ' else ' ~ add_days('provenance.last_event_date', 1) ~ ' end'
        ) }} as double)
        / cast({{ date_diff_days('period_start', add_months('period_start', 12)) }} as double)
            as year_covered_share
    from municipality_year
    cross join provenance

),

-- A municipality's van runs: the days a county van (hub or direct route, not its own
-- local run) took an item from or to its branches.
stops as (

    select from_municipality_code as municipality_code, dispatched_date
    from transports
    where transport_route <> 'local'

    union

    select to_municipality_code as municipality_code, dispatched_date
    from transports
    where transport_route <> 'local'

),

van_runs as (

    select
        municipality_code,
        cast(extract(year from dispatched_date) as bigint) as year,
        count(*) as van_runs
    from stops
    group by municipality_code, cast(extract(year from dispatched_date) as bigint)

),

moved as (

    select
        municipality_code,
        cast(extract(year from dispatched_date) as bigint) as year,
        count(*) as transports
    from (
        select from_municipality_code as municipality_code, dispatched_date, transport_id
        from transports
        union
        select to_municipality_code as municipality_code, dispatched_date, transport_id
        from transports
    ) as ends
    group by municipality_code, cast(extract(year from dispatched_date) as bigint)

),

moved_all as (

    select cast(extract(year from dispatched_date) as bigint) as year, count(*) as transports
    from transports
    group by cast(extract(year from dispatched_date) as bigint)

),

-- Holds of residents (by the year they were placed) that became ready, and of those the
-- ones filled by a copy another municipality owns.
filled as (

    select
        resident_municipality_code as municipality_code,
        cast(extract(year from placed_date) as bigint) as year,
        count(*) as holds_ready,
        sum(case when trapped_item_owner_municipality_code <> resident_municipality_code
            then 1 else 0 end) as holds_filled_elsewhere,
        count(distinct patron_key) as hold_patrons
    from holds
    where resident_municipality_code is not null
    group by resident_municipality_code, cast(extract(year from placed_date) as bigint)

),

per_municipality as (

    select
        municipality_year.year,
        municipality_year.municipality_code,
        municipality_year.loans_per_capita,
        municipality_year.hold_wait_days_median,
        municipality_year.hold_wait_days_p90,
        {{ unless_suppressed(
            safe_divide('cast(filled.holds_filled_elsewhere as double)', 'filled.holds_ready'),
            is_small_count('filled.hold_patrons')
        ) }} as holds_filled_elsewhere_share,
        {{ is_small_count('coalesce(filled.hold_patrons, 0)') }} as holds_suppressed,
        municipality_year.borrowers_suppressed,
        municipality_year.holds_suppressed as wait_suppressed,
        cast(coalesce(moved.transports, 0) as double) as transports,
        cast(coalesce(van_runs.van_runs, 0) as double) as van_runs,
        coalesce(van_runs.van_runs, 0) * run_cost.cost_per_run_sek as van_cost_sek
    from municipality_year
    left join filled
        on filled.municipality_code = municipality_year.municipality_code
        and filled.year = municipality_year.year
    left join moved
        on moved.municipality_code = municipality_year.municipality_code
        and moved.year = municipality_year.year
    left join van_runs
        on van_runs.municipality_code = municipality_year.municipality_code
        and van_runs.year = municipality_year.year
    left join run_cost on run_cost.budget_year = municipality_year.year

),

consortium as (

    select
        years.year,
        cast(coalesce(moved_all.transports, 0) as double) as transports,
        cast(coalesce(sum(van_runs.van_runs), 0) as double) as van_runs,
        coalesce(sum(van_runs.van_runs), 0) * max(run_cost.cost_per_run_sek) as van_cost_sek,
        max(run_cost.budget_sek) * years.year_covered_share as van_budget_sek
    from years
    left join moved_all on moved_all.year = years.year
    left join van_runs on van_runs.year = years.year
    left join run_cost on run_cost.budget_year = years.year
    group by years.year, years.year_covered_share, moved_all.transports

),

long as (

    {%- set per_municipality_metrics = [
        ('loans_per_capita', 'borrowers_suppressed'),
        ('hold_wait_days_median', 'wait_suppressed'),
        ('hold_wait_days_p90', 'wait_suppressed'),
        ('holds_filled_elsewhere_share', 'holds_suppressed'),
        ('transports', 'false'),
        ('van_runs', 'false'),
        ('van_cost_sek', 'false'),
    ] %}
    {%- for metric, flag in per_municipality_metrics %}
    select
        year,
        municipality_code,
        '{{ metric }}' as metric,
        cast({{ metric }} as double) as metric_value,
        coalesce({{ flag }}, false) as is_suppressed
    from per_municipality
    union all
    {%- endfor %}

    {%- for metric in ['transports', 'van_runs', 'van_cost_sek', 'van_budget_sek'] %}
    select
        year,
        'all' as municipality_code,
        '{{ metric }}' as metric,
        cast({{ metric }} as double) as metric_value,
        false as is_suppressed
    from consortium
    union all
    {%- endfor %}

    select
        year,
        'all' as municipality_code,
        'van_cost_budget_share' as metric,
        {{ safe_divide('van_cost_sek', 'van_budget_sek') }} as metric_value,
        false as is_suppressed
    from consortium

    {%- for column, metric in [
        ('coefficient_of_variation', 'loans_per_capita_cv'),
        ('gini', 'loans_per_capita_gini'),
        ('theil_t', 'loans_per_capita_theil'),
    ] %}
    union all
    select
        year,
        'all' as municipality_code,
        '{{ metric }}' as metric,
        cast({{ column }} as double) as metric_value,
        coalesce(is_withheld, false) as is_suppressed
    from index_year
    {%- endfor %}

)

select
    long.year,
    long.municipality_code,
    coalesce(municipalities.municipality_name, 'Hela samarbetet') as municipality_name,
    long.metric,
    case when long.is_suppressed then null else long.metric_value end as metric_value,
    long.is_suppressed,
    provenance.population_scale,
    provenance.first_event_date,
    provenance.last_event_date,
    provenance.data_source
from long
cross join provenance
left join municipalities on municipalities.municipality_code = long.municipality_code
