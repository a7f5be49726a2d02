{#- One row per municipality with lending branches and reporting period: the stock its
    branches own at the end of the period (docs/metrics.md stock_per_capita) and the stock its
    residents can borrow or reserve then (accessible_stock_per_capita): their own, plus
    every member's while the municipality is a member: the "larger supply" of joining. -#}
with stock as (

    select * from {{ ref('int_stock_branch_month') }}

),

municipality_periods as (

    select * from {{ ref('int_municipality_periods') }}
    where has_lending_data

),

own as (

    select
        municipality_periods.municipality_code,
        municipality_periods.period_type,
        municipality_periods.period_start,
        municipality_periods.is_member,
        -- the month that holds the period's state date (its end, or the last day of data)
        {{ month_start('municipality_periods.period_state_date') }} as state_month,
        sum(stock.stock_at_month_end) as stock
    from municipality_periods
    inner join stock
        on stock.municipality_code = municipality_periods.municipality_code
        and stock.month_start = {{ month_start('municipality_periods.period_state_date') }}
    group by
        municipality_periods.municipality_code,
        municipality_periods.period_type,
        municipality_periods.period_start,
        municipality_periods.is_member,
        {{ month_start('municipality_periods.period_state_date') }}

),

members_stock as (

    select
        period_type,
        period_start,
        sum(stock) as members_stock
    from own
    where is_member
    group by period_type, period_start

)

select
    own.municipality_code,
    own.period_type,
    own.period_start,
    own.state_month as stock_month,
    cast(own.stock as bigint) as stock,
    cast(
        case when own.is_member then members_stock.members_stock else own.stock end
        as bigint
    ) as accessible_stock
from own
left join members_stock
    on members_stock.period_type = own.period_type
    and members_stock.period_start = own.period_start
