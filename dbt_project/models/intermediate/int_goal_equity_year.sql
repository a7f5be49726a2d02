{#- One row per calendar year with data and a year before it: the "equity" KPI of the
    2024 goal, the change in the coefficient of variation of loans_per_capita among the
    members, like for like in two ways:
      the same municipalities: the members at the end of the year, for that year and for
        the year before (so that a municipality joining does not by itself move the index);
      the same months: the complete months of the year whose month of the year before is
        complete too (January to October of both, when the data ends on 31 October), so a
        part year is never set against a whole one. Each municipality's rate is its loans
        in those months over its population denominator of that year; for two complete
        years it is the yearly loans_per_capita.
    A comparison over fewer than twelve months is preliminary (is_preliminary): the rest
    of the year can still change it. A year in which a member's yearly loans rest on 1-4
    people (its cell is hidden) gives no comparison: the CV beside the published figures
    would give the hidden one back. -#}
with months as (

    select
        municipality_code,
        period_year,
        cast(extract(month from period_start) as bigint) as month_of_year,
        is_complete_period,
        loans,
        population_denominator
    from {{ ref('int_equity_municipality_period') }}
    where period_type = 'month'

),

years as (

    select * from {{ ref('int_equity_metric_values') }}
    where period_type = 'year' and metric = 'loans_per_capita'

),

complete_months as (

    select distinct period_year, month_of_year
    from months
    where is_complete_period

),

-- the months of the year that both it and the year before have complete
compared_months as (

    select this_year.period_year as comparison_year, this_year.month_of_year
    from complete_months as this_year
    inner join complete_months as previous_year
        on previous_year.period_year = this_year.period_year - 1
        and previous_year.month_of_year = this_year.month_of_year

),

comparison_windows as (

    select
        comparison_year,
        count(*) as compared_months,
        min(month_of_year) as first_compared_month,
        max(month_of_year) as last_compared_month
    from compared_months
    group by comparison_year

),

members_of_year as (

    select period_year as comparison_year, municipality_code
    from years
    where is_member

),

inputs as (

    select
        members_of_year.comparison_year,
        months.period_year as measured_year,
        months.municipality_code,
        max(years.cohort) as cohort,
        max(months.population_denominator) as weight,
        sum(months.loans) / max(months.population_denominator) as metric_value
    from members_of_year
    inner join compared_months
        on compared_months.comparison_year = members_of_year.comparison_year
    inner join months
        on months.municipality_code = members_of_year.municipality_code
        and months.month_of_year = compared_months.month_of_year
        and months.period_year in (
            members_of_year.comparison_year, members_of_year.comparison_year - 1
        )
    inner join years
        on years.municipality_code = months.municipality_code
        and years.period_year = months.period_year
    group by members_of_year.comparison_year, months.period_year, months.municipality_code

),

{{ inequality_indices('inputs', ['comparison_year', 'measured_year']) }},

-- members whose yearly loans are hidden in either year of a comparison
hidden_members as (

    select members_of_year.comparison_year, count(*) as hidden_municipalities
    from members_of_year
    inner join years
        on years.municipality_code = members_of_year.municipality_code
        and years.period_year in (
            members_of_year.comparison_year, members_of_year.comparison_year - 1
        )
    where years.is_hidden
    group by members_of_year.comparison_year

),

completeness as (

    select period_year, max(case when is_complete_period then 1 else 0 end) as is_complete
    from years
    group by period_year

)

select
    this_year.comparison_year as year,
    this_year.municipalities,
    cast(windows.compared_months as bigint) as compared_months,
    cast(windows.first_compared_month as bigint) as first_compared_month,
    cast(windows.last_compared_month as bigint) as last_compared_month,
    windows.compared_months < 12 as is_preliminary,
    this_year.coefficient_of_variation as cv,
    previous_year.coefficient_of_variation as cv_previous_year,
    round(this_year.coefficient_of_variation - previous_year.coefficient_of_variation, 6)
        as cv_change,
    completeness.is_complete = 1 as is_complete_period
from idx_result as this_year
inner join idx_result as previous_year
    on previous_year.comparison_year = this_year.comparison_year
    and previous_year.measured_year = this_year.comparison_year - 1
    -- the same municipalities in both years, or the comparison is not like for like
    and previous_year.municipalities = this_year.municipalities
inner join comparison_windows as windows on windows.comparison_year = this_year.comparison_year
inner join completeness on completeness.period_year = this_year.comparison_year
left join hidden_members on hidden_members.comparison_year = this_year.comparison_year
where this_year.measured_year = this_year.comparison_year
  and hidden_members.hidden_municipalities is null
