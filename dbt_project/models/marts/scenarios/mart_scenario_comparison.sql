{#- One row per scenario (other than the baseline), year, municipality ('all' for the
    consortium as a whole) and metric: the scenario against the baseline run with the same
    seed, scale and period, so that a difference comes from the membership rules alone
    (docs/metrics.md, "Scenarios"). Over the seeds both were run with: the mean of each
    side, the mean difference and its min and max, and the seeds' spread, the largest
    max − min of either side over the seeds. An effect no larger than that spread is not
    one (is_beyond_seed_spread is false), and with fewer than three seeds it is not judged.
    A value suppressed (fewer than five people) in either run leaves that seed out of the
    difference; the municipalities outside the consortium have no baseline value. -#}
with runs as (

    select * from {{ ref('stg_scenario__run_year') }}

),

baseline as (

    select * from runs where scenario = 'baseline'

),

paired as (

    select
        scenario_run.scenario,
        scenario_run.scale,
        scenario_run.start_date,
        scenario_run.end_date,
        scenario_run.year,
        scenario_run.municipality_code,
        scenario_run.municipality_name,
        scenario_run.metric,
        scenario_run.seed,
        baseline.metric_value as baseline_value,
        scenario_run.metric_value as scenario_value,
        scenario_run.metric_value - baseline.metric_value as difference,
        coalesce(scenario_run.is_suppressed or baseline.is_suppressed, false) as is_suppressed
    from runs as scenario_run
    left join baseline
        on baseline.seed = scenario_run.seed
        and baseline.scale = scenario_run.scale
        and baseline.start_date = scenario_run.start_date
        and baseline.end_date = scenario_run.end_date
        and baseline.year = scenario_run.year
        and baseline.municipality_code = scenario_run.municipality_code
        and baseline.metric = scenario_run.metric
    where scenario_run.scenario <> 'baseline'

),

summary as (

    select
        scenario,
        scale,
        start_date,
        end_date,
        year,
        municipality_code,
        max(municipality_name) as municipality_name,
        metric,
        count(*) as seeds,
        count(difference) as seeds_compared,
        sum(case when is_suppressed then 1 else 0 end) as seeds_suppressed,
        avg(baseline_value) as baseline_value,
        avg(scenario_value) as scenario_value,
        avg(difference) as difference,
        min(difference) as difference_min,
        max(difference) as difference_max,
        max(baseline_value) - min(baseline_value) as baseline_spread,
        max(scenario_value) - min(scenario_value) as scenario_spread
    from paired
    group by scenario, scale, start_date, end_date, year, municipality_code, metric

),

spread as (

    select
        summary.*,
        case
            when baseline_spread is null then scenario_spread
            when scenario_spread is null then baseline_spread
            when baseline_spread > scenario_spread then baseline_spread
            else scenario_spread
        end as seed_spread
    from summary

)

select
    scenario,
    scale,
    start_date,
    end_date,
    cast(year as bigint) as year,
    municipality_code,
    municipality_name,
    metric,
    cast(seeds as bigint) as seeds,
    cast(seeds_compared as bigint) as seeds_compared,
    cast(seeds_suppressed as bigint) as seeds_suppressed,
    baseline_value,
    scenario_value,
    difference,
    difference_min,
    difference_max,
    seed_spread,
    case
        when seeds_compared < 3 or difference is null then null
        else abs(difference) > seed_spread
    end as is_beyond_seed_spread
from spread
