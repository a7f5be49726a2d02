-- Headline figures for the nine municipalities: this year so far against the same months
-- of last year (a part of a year is only comparable with the same part of another). "This
-- year" runs from January (or the first complete month with data) to the last complete
-- month; last year's figure is given only when the data covers all those months of it.
-- Flows are summed over months and municipalities; per-capita figures divide by the
-- municipalities' population denominators (s × population); stock is read at the end of
-- the last month. Cells the mart suppressed (null) are left out of the sums.
with months as (

    select * from main.mart_equity_municipality_month
    where is_complete_period

),

window_end as (

    select max(period_start) as last_month from months

),

window_this as (

    select
        extract(year from w.last_month) as this_year,
        min(m.period_start) as first_month,
        w.last_month
    from window_end as w
    inner join months as m
        on m.period_start <= w.last_month
        and extract(year from m.period_start) = extract(year from w.last_month)
    group by w.last_month

),

periods as (

    select 'this' as period, this_year as year, first_month, last_month from window_this
    union all
    select 'last', this_year - 1, first_month - interval 1 year, last_month - interval 1 year
    from window_this

),

loans as (

    select
        p.period,
        p.year,
        count(distinct m.period_start) as months,
        sum(m.loans) as loans,
        sum(m.shared_loans) as shared_loans,
        sum(m.holds_ready) as holds_ready,
        sum(m.holds_placed) - sum(m.holds_cancelled_by_patron) as holds_not_cancelled
    from periods as p
    inner join months as m on m.period_start between p.first_month and p.last_month
    group by p.period, p.year

),

denominators as (

    -- one population denominator per municipality and year (the same in every month)
    select p.period, sum(d.population_denominator) as population_denominator
    from periods as p
    inner join (
        select distinct municipality_code, year, population_denominator from months
    ) as d on d.year = p.year
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
    inner join main.mart_transport_month as t
        on t.month_start between p.first_month and p.last_month
    group by p.period

),

figures as (

    select
        l.period,
        l.year,
        l.months,
        l.loans / d.population_denominator as loans_per_capita,
        l.shared_loans / l.loans as shared_loan_share,
        l.holds_ready / l.holds_not_cancelled as hold_fill_rate,
        s.accessible_stock_per_capita,
        t.items_sent
    from loans as l
    inner join denominators as d on d.period = l.period
    left join stock as s on s.period = l.period
    left join transports as t on t.period = l.period

),

this_period as (

    select f.*, w.first_month, w.last_month
    from figures as f cross join window_this as w
    where f.period = 'this'

),

-- last year counts only when the data covers every month of its window
last_period as (

    select f.* from figures as f cross join this_period as t
    where f.period = 'last' and f.months = t.months

),

kpis as (

    select 1 as sort_order, 'loans_per_capita' as metric, 'Lån per invånare' as label,
        '#,##0.00' as fmt, t.loans_per_capita as this_value, l.loans_per_capita as last_value
    from this_period as t left join last_period as l on true
    union all
    select 2, 'shared_loan_share', 'Andel lån av andra kommuners medier', '0.0%',
        t.shared_loan_share, l.shared_loan_share
    from this_period as t left join last_period as l on true
    union all
    select 3, 'hold_fill_rate', 'Andel uppfyllda reservationer', '0.0%',
        t.hold_fill_rate, l.hold_fill_rate
    from this_period as t left join last_period as l on true
    union all
    select 4, 'accessible_stock_per_capita', 'Tillgängligt bestånd per invånare (vid periodens slut)',
        '#,##0.0', t.accessible_stock_per_capita, l.accessible_stock_per_capita
    from this_period as t left join last_period as l on true
    union all
    select 5, 'items_sent', 'Medier skickade med länstransporten', '#,##0',
        t.items_sent, l.items_sent
    from this_period as t left join last_period as l on true

)

select
    k.sort_order,
    k.metric,
    k.label,
    k.fmt,
    k.this_value,
    k.last_value,
    k.this_value - k.last_value as change,
    t.year as this_year,
    t.year - 1 as last_year,
    t.first_month,
    t.last_month,
    t.months
from kpis as k
cross join this_period as t
