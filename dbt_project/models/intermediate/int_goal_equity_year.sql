{#- One row per calendar year with data and a year before it: the "equity" KPI of the
    2024 goal, the change in the coefficient of variation of loans_per_capita among the
    members, like for like: computed over the municipalities that are members at the end
    of the year, for that year and for the year before (so that a municipality joining
    does not by itself move the index). -#}
with loans_per_capita as (

    select * from {{ ref('int_equity_metric_values') }}
    where period_type = 'year' and metric = 'loans_per_capita'

),

members_of_year as (

    select period_year as comparison_year, municipality_code
    from loans_per_capita
    where is_member

),

inputs as (

    select
        members_of_year.comparison_year,
        values_of_year.period_year as measured_year,
        values_of_year.municipality_code,
        values_of_year.cohort,
        values_of_year.weight,
        values_of_year.metric_value
    from members_of_year
    inner join loans_per_capita as values_of_year
        on values_of_year.municipality_code = members_of_year.municipality_code
        and values_of_year.period_year in (
            members_of_year.comparison_year, members_of_year.comparison_year - 1
        )

),

{{ inequality_indices('inputs', ['comparison_year', 'measured_year']) }},

completeness as (

    select period_year, max(case when is_complete_period then 1 else 0 end) as is_complete
    from loans_per_capita
    group by period_year

)

select
    this_year.comparison_year as year,
    this_year.municipalities,
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
inner join completeness on completeness.period_year = this_year.comparison_year
where this_year.measured_year = this_year.comparison_year
