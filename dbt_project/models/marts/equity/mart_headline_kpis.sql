{#- One row per headline figure of the consortium (all municipalities with data): this
    year so far against the same months of last year, for the overview page. A part of a
    year is only comparable with the same part of another: "this year" runs from January
    (or the first complete month with data) to the last complete month, and last year's
    figure is given only when the data covers all those months of it.
      loans_per_capita            loans / Σ population denominators (s × population)
      shared_loan_share           loans of other municipalities' items / loans
      hold_fill_rate              holds ready / (holds placed − cancelled by the patron)
      accessible_stock_per_capita accessible stock / population at the end of the window
      items_sent                  items sent with the county van
    The figures are computed from the consortium's unsuppressed totals: leaving hidden
    cells out of the numerator while keeping their population in the denominator biased
    the rate low. A consortium total is publishable, but beside the municipalities'
    published cells it gives back the sum of their hidden cells by subtraction; that sum
    is protected when it rests on at least the threshold of people (complementary
    suppression sees to it within a year), and a figure whose hidden remainder in the
    window rests on 1-4 people is withheld. -#}
{%- set threshold = var('suppression_threshold') -%}
with months as (

    select
        m.*,
        d.borrowers_suppressed,
        d.shared_loans_suppressed,
        d.holds_suppressed
    from {{ ref('int_equity_municipality_period') }} as m
    inner join {{ ref('int_equity_disclosure') }} as d
        on d.municipality_code = m.municipality_code
        and d.period_type = m.period_type
        and d.period_start = m.period_start
    where m.period_type = 'month' and m.is_complete_period

),

transport_months as (

    select * from {{ ref('mart_transport_month') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

window_end as (

    select max(period_start) as last_month from months

),

window_this as (

    select
        max(w.last_month) as last_month,
        min(m.period_start) as first_month,
        cast(extract(year from max(w.last_month)) as bigint) as this_year
    from window_end as w
    inner join months as m
        on m.period_start <= w.last_month
        and extract(year from m.period_start) = extract(year from w.last_month)

),

periods as (

    select 'this' as period, this_year as year, first_month, last_month from window_this
    union all
    select
        'last',
        this_year - 1,
        {{ add_months('first_month', -12) }},
        {{ add_months('last_month', -12) }}
    from window_this

),

totals as (

    select
        p.period,
        count(distinct m.period_start) as months,
        sum(m.loans) as loans,
        sum(m.shared_loans) as shared_loans,
        sum(m.holds_ready) as holds_ready,
        sum(m.holds_placed) - sum(m.holds_cancelled_by_patron) as holds_not_cancelled,
        -- people behind the cells the municipality marts hide, counted month by month
        sum(case when m.borrowers_suppressed then m.borrowers else 0 end) as hidden_borrowers,
        sum(case when m.shared_loans_suppressed then m.shared_loan_borrowers else 0 end)
            as hidden_shared_loan_borrowers,
        sum(case when m.holds_suppressed then m.hold_patrons else 0 end) as hidden_hold_patrons
    from periods as p
    inner join months as m on m.period_start between p.first_month and p.last_month
    group by p.period

),

denominators as (

    -- one population denominator per municipality and year (the same in every month)
    select p.period, sum(d.population_denominator) as population_denominator
    from periods as p
    inner join (
        select distinct municipality_code, period_year, population_denominator from months
    ) as d on d.period_year = p.year
    group by p.period

),

stock as (

    select
        p.period,
        sum(m.accessible_stock) / sum(m.population_denominator) as accessible_stock_per_capita
    from periods as p
    inner join months as m on m.period_start = p.last_month
    group by p.period

),

transports as (

    select p.period, sum(t.items_sent) as items_sent
    from periods as p
    inner join transport_months as t
        on t.month_start between p.first_month and p.last_month
    group by p.period

),

figures as (

    select
        t.period,
        t.months,
        t.loans / d.population_denominator as loans_per_capita,
        {{ safe_divide('t.shared_loans', 't.loans') }} as shared_loan_share,
        {{ safe_divide('t.holds_ready', 't.holds_not_cancelled') }} as hold_fill_rate,
        s.accessible_stock_per_capita,
        cast(tr.items_sent as double) as items_sent,
        {{ is_small_count('t.hidden_borrowers') }} as loans_withheld,
        {{ is_small_count('t.hidden_borrowers') }}
            or {{ is_small_count('t.hidden_shared_loan_borrowers') }} as shared_withheld,
        {{ is_small_count('t.hidden_hold_patrons') }} as holds_withheld
    from totals as t
    inner join denominators as d on d.period = t.period
    left join stock as s on s.period = t.period
    left join transports as tr on tr.period = t.period

),

-- one row per figure and period, the withheld ones null
long_figures as (

    {% set kpis = [
        (1, 'loans_per_capita', 'loans_withheld'),
        (2, 'shared_loan_share', 'shared_withheld'),
        (3, 'hold_fill_rate', 'holds_withheld'),
        (4, 'accessible_stock_per_capita', none),
        (5, 'items_sent', none),
    ] %}
    {% for sort_order, metric, withheld in kpis %}
    select
        {{ sort_order }} as sort_order,
        '{{ metric }}' as metric,
        period,
        months,
        {% if withheld -%}
        case when {{ withheld }} then null else {{ metric }} end as kpi_value,
        {{ withheld }} as is_withheld
        {%- else -%}
        {{ metric }} as kpi_value,
        false as is_withheld
        {%- endif %}
    from figures
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

this_period as (

    select * from long_figures where period = 'this'

),

-- last year counts only when the data covers every month of its window
last_period as (

    select last_figures.*
    from long_figures as last_figures
    inner join this_period
        on this_period.metric = last_figures.metric
        and this_period.months = last_figures.months
    where last_figures.period = 'last'

)

select
    cast(this_period.sort_order as bigint) as sort_order,
    this_period.metric,
    window_this.this_year,
    window_this.this_year - 1 as last_year,
    window_this.first_month,
    window_this.last_month,
    cast(this_period.months as bigint) as months,
    -- six decimals: more than the page shows
    round(this_period.kpi_value, 6) as this_value,
    round(last_period.kpi_value, 6) as last_value,
    round(this_period.kpi_value - last_period.kpi_value, 6) as change,
    this_period.is_withheld as this_is_withheld,
    coalesce(last_period.is_withheld, false) as last_is_withheld,
    provenance.data_source
from this_period
cross join window_this
cross join provenance
left join last_period on last_period.metric = this_period.metric
