{#- One row per lending branch and month: the items the branch owns at the end of the
    month (added and not yet withdrawn or lost), rebuilt from the item events as a running
    sum of each month's additions minus removals. A copy moved for good to another branch
    (int_item_rehomings) leaves the one stock and joins the other in the month of the
    move (counted in items_removed and items_added); a copy leaves the stock from the home
    it has then, its newest. For the month holding the last event this is the stock at
    the end of the data. -#}
with items as (

    select * from {{ ref('int_items') }}

),

rehomings as (

    select * from {{ ref('int_item_rehomings') }}

),

branches as (

    select * from {{ ref('int_branches') }}
    where lends

),

months as (

    select period_start as month_start
    from {{ ref('int_periods') }}
    where period_type = 'month'

),

changes as (

    select
        home_branch_code as branch_code,
        {{ month_start('added_date') }} as month_start,
        1 as items_added,
        0 as items_removed
    from items

    union all

    select
        current_home_branch_code as branch_code,
        {{ month_start('left_stock_date') }} as month_start,
        0 as items_added,
        1 as items_removed
    from items
    where left_stock_date is not null

    union all

    select
        from_branch_code as branch_code,
        {{ month_start('rehomed_date') }} as month_start,
        0 as items_added,
        1 as items_removed
    from rehomings

    union all

    select
        to_branch_code as branch_code,
        {{ month_start('rehomed_date') }} as month_start,
        1 as items_added,
        0 as items_removed
    from rehomings

),

monthly as (

    select
        branch_code,
        month_start,
        sum(items_added) as items_added,
        sum(items_removed) as items_removed
    from changes
    group by branch_code, month_start

),

spine as (

    select
        branches.branch_code,
        branches.municipality_code,
        months.month_start
    from branches
    cross join months

)

select
    spine.branch_code,
    spine.municipality_code,
    spine.month_start,
    cast(coalesce(monthly.items_added, 0) as bigint) as items_added,
    cast(coalesce(monthly.items_removed, 0) as bigint) as items_removed,
    cast(sum(coalesce(monthly.items_added, 0) - coalesce(monthly.items_removed, 0)) over (
        partition by spine.branch_code
        order by spine.month_start
        rows between unbounded preceding and current row
    ) as bigint) as stock_at_month_end
from spine
left join monthly
    on monthly.branch_code = spine.branch_code
    and monthly.month_start = spine.month_start
