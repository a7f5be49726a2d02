{#- One row per municipality with lending branches and reporting period: staffed and
    staffless opening hours per week summed over its branches, as the branch table stood
    on the landed as-of date in force on the period's state date (the newest on or before
    it; before the first, the first, flagged). The as-of dates are those of the snapshot
    manifest (one per ingestion run); the branches on such a date come from the branch
    history (valid_on). -#}
with branches as (

    select * from {{ ref('stg_lending_core__branch') }}
    where branch_kind <> 'hub'

),

periods as (

    select * from {{ ref('int_periods') }}

),

snapshot_dates as (

    select distinct snapshot_date from {{ ref('stg_lending_core__snapshot_manifest') }}

),

chosen as (

    select
        periods.period_type,
        periods.period_start,
        max(case when snapshot_dates.snapshot_date <= periods.period_state_date
            then snapshot_dates.snapshot_date end) as snapshot_on_or_before,
        min(snapshot_dates.snapshot_date) as first_snapshot
    from periods
    cross join snapshot_dates
    group by periods.period_type, periods.period_start

)

select
    branches.municipality_code,
    chosen.period_type,
    chosen.period_start,
    coalesce(chosen.snapshot_on_or_before, chosen.first_snapshot) as hours_snapshot_date,
    chosen.snapshot_on_or_before is null as hours_from_later_snapshot,
    cast(count(*) as bigint) as lending_branches,
    sum(branches.staffed_hours_per_week) as staffed_hours_per_week,
    sum(branches.staffless_hours_per_week) as staffless_hours_per_week,
    sum(branches.staffed_hours_per_week + branches.staffless_hours_per_week)
        as open_hours_per_week
from chosen
inner join branches
    on {{ valid_on('coalesce(chosen.snapshot_on_or_before, chosen.first_snapshot)', 'branches.') }}
group by
    branches.municipality_code,
    chosen.period_type,
    chosen.period_start,
    coalesce(chosen.snapshot_on_or_before, chosen.first_snapshot),
    chosen.snapshot_on_or_before is null
