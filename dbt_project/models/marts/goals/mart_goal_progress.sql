{#- One row per milestone of the 2024 goal (and municipality, for each council's
    approval of the cooperation agreement): target date, actual date, status and the KPI
    behind it. Four milestones are read from the data (docs/metrics.md "Goal progress"):
      one_system     member municipalities (membership timeline); actual date = the first
                     day the count reached the target;
      one_card       share of this year's active borrowers (residents of members) who
                     borrowed in more than one municipality, year to date; actual date =
                     the end of the first month the share met the target;
      larger_supply  the joiners' accessible stock per capita, latest month over the last
                     month before the join; actual date = the end of the first month after
                     the join that met the target;
      equity         the year-on-year change of the CV of loans_per_capita among the
                     members (like for like: the same municipalities and the same months of
                     both years); actual date = the end of the first complete year whose
                     change met the target. A reading over fewer than twelve months is
                     preliminary: it never sets the actual date, and where it is the latest
                     reading and meets the target the status is met_preliminary.
    Only the targets are typed in by hand (goal_target); milestones that leave no trace in
    the lending core come from goal_milestone and say whether their dates are examples. -#}
with targets as (

    select * from {{ ref('stg_reference__goal_target') }}

),

milestones as (

    select * from {{ ref('stg_reference__goal_milestone') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

municipalities as (

    select * from {{ ref('stg_lending_core__municipality') }}
    where is_latest_snapshot

),

timeline as (

    select * from {{ ref('int_goal_membership_timeline') }}

),

one_card as (

    select * from {{ ref('int_goal_one_card_month') }}

),

equity as (

    select * from {{ ref('int_goal_equity_year') }}

),

supply as (

    select * from {{ ref('mart_equity_join_did_month') }}
    where metric = 'accessible_stock_per_capita'

),

supply_ratio as (

    select
        after_join.months_since_join,
        after_join.last_calendar_month,
        after_join.joiners_mean / nullif(before_join.joiners_mean, 0) as ratio
    from supply as after_join
    inner join supply as before_join on before_join.months_since_join = -1
    where after_join.months_since_join >= 0

),

-- every reading of each KPI in the data: the date it describes and its value
readings as (

    select
        'member_municipalities' as kpi_metric,
        change_date as kpi_date,
        cast(member_municipalities as double) as kpi_value,
        false as is_preliminary
    from timeline

    union all

    select
        'multi_municipality_borrower_share',
        period_state_date,
        -- to a tenth of a percentage point: exact enough for the goal, and too coarse to
        -- work a municipality's hidden count of such borrowers back out of it
        round(multi_municipality_borrower_share_ytd, 3),
        false
    from one_card

    union all

    select
        'joiners_accessible_stock_per_capita_after_over_before',
        {{ add_days(add_months('last_calendar_month', 1), -1) }},
        ratio,
        false
    from supply_ratio

    union all

    select
        'members_loans_per_capita_cv_change',
        case when equity.is_complete_period then {{ year_end_date('equity.year') }}
            else provenance.last_event_date end,
        cv_change,
        equity.is_preliminary
    from equity
    cross join provenance

),

readings_in_data as (

    select readings.*
    from readings
    cross join provenance
    where readings.kpi_date <= provenance.last_event_date
      and readings.kpi_value is not null

),

kpi_latest as (

    select kpi_metric, kpi_date, kpi_value, is_preliminary
    from (
        select
            readings_in_data.*,
            row_number() over (partition by kpi_metric order by kpi_date desc) as newest_first
        from readings_in_data
    ) as ranked
    where newest_first = 1

),

-- the first date on which the data shows each target met
kpi_met as (

    select
        targets.target_code,
        min(readings_in_data.kpi_date) as actual_date
    from targets
    inner join readings_in_data
        on readings_in_data.kpi_metric = targets.target_metric
        and {{ meets_target('readings_in_data.kpi_value', 'targets.target_comparison', 'targets.target_value') }}
        -- a part year's reading can still change: only final readings meet a target
        and not readings_in_data.is_preliminary
    group by targets.target_code

),

target_rows as (

    select
        targets.target_code as milestone_code,
        'kpi' as milestone_kind,
        cast(null as {{ dbt.type_string() }}) as municipality_code,
        targets.target_description as description,
        targets.target_metric as kpi_metric,
        kpi_latest.kpi_value,
        kpi_latest.kpi_date,
        coalesce(kpi_latest.is_preliminary, false) as kpi_is_preliminary,
        coalesce(kpi_latest.is_preliminary, false) and {{ meets_target(
            'kpi_latest.kpi_value', 'targets.target_comparison', 'targets.target_value') }}
            as meets_target_preliminarily,
        targets.target_comparison,
        targets.target_value,
        targets.target_date,
        kpi_met.actual_date,
        targets.target_is_example,
        false as actual_date_is_example,
        provenance.data_source,
        targets.target_source
    from targets
    cross join provenance
    left join kpi_latest on kpi_latest.kpi_metric = targets.target_metric
    left join kpi_met on kpi_met.target_code = targets.target_code

),

milestone_rows as (

    select
        milestones.milestone_code,
        'reference' as milestone_kind,
        milestones.municipality_code,
        milestones.milestone_description as description,
        cast(null as {{ dbt.type_string() }}) as kpi_metric,
        cast(null as double) as kpi_value,
        cast(null as date) as kpi_date,
        false as kpi_is_preliminary,
        false as meets_target_preliminarily,
        cast(null as {{ dbt.type_string() }}) as target_comparison,
        cast(null as double) as target_value,
        milestones.target_date,
        milestones.actual_date,
        milestones.target_date_is_example as target_is_example,
        milestones.actual_date_is_example,
        case when milestones.actual_date_is_example or milestones.target_date_is_example
            then 'example data' else 'reference file' end as data_source,
        milestones.milestone_source as target_source
    from milestones

),

all_rows as (

    select * from target_rows
    union all
    select * from milestone_rows

)

select
    all_rows.milestone_code,
    all_rows.milestone_kind,
    all_rows.municipality_code,
    municipalities.municipality_name,
    all_rows.description,
    all_rows.kpi_metric,
    all_rows.kpi_value,
    all_rows.kpi_date,
    all_rows.kpi_is_preliminary,
    all_rows.target_comparison,
    all_rows.target_value,
    all_rows.target_date,
    all_rows.actual_date,
    case
        when all_rows.actual_date is null and coalesce(all_rows.meets_target_preliminarily, false)
            then 'met_preliminary'
        else {{ milestone_status('all_rows.actual_date', 'all_rows.target_date', 'provenance.last_event_date') }}
    end as status,
    provenance.last_event_date as as_of_date,
    all_rows.target_is_example,
    all_rows.actual_date_is_example,
    all_rows.data_source,
    all_rows.target_source
from all_rows
cross join provenance
left join municipalities on municipalities.municipality_code = all_rows.municipality_code
