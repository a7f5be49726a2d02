{#- One row per item (physical copy) rebuilt from the item events: where it belongs
    (floating collections change where an item stands, not who owns it), when it entered
    the stock and when it left it (withdrawn, or lost in transit; the lending core has no
    way back from either). home_branch_code and owner_municipality_code are those the copy
    was added with (the owner of its loans); a collection-balancing move (item_rehomed,
    int_item_rehomings) gives it another home, current_home_branch_code the newest. -#}
with events as (

    select * from {{ ref('stg_lending_core__circulation_event') }}
    where event_type in ('item_added', 'item_withdrawn', 'transport_lost', 'item_rehomed')

),

branches as (

    select * from {{ ref('int_branches') }}

),

titles as (

    select * from {{ ref('stg_lending_core__title') }}
    where is_latest_snapshot

),

added as (

    select
        item_id,
        title_id,
        branch_code as home_branch_code,
        event_date as added_date
    from events
    where event_type = 'item_added'

),

newest_home as (

    select item_id, to_branch_code as current_home_branch_code
    from (
        select
            item_id,
            to_branch_code,
            row_number() over (partition by item_id order by event_id desc) as newest_first
        from events
        where event_type = 'item_rehomed'
    ) as rehomings
    where newest_first = 1

),

removed as (

    select
        item_id,
        min(case when event_type = 'item_withdrawn' then event_date end) as withdrawn_date,
        min(case when event_type = 'transport_lost' then event_date end) as lost_date
    from events
    where event_type in ('item_withdrawn', 'transport_lost')
    group by item_id

)

select
    added.item_id,
    added.title_id,
    added.home_branch_code,
    branches.municipality_code as owner_municipality_code,
    coalesce(newest_home.current_home_branch_code, added.home_branch_code)
        as current_home_branch_code,
    added.added_date,
    removed.withdrawn_date,
    removed.lost_date,
    case
        when removed.withdrawn_date is null then removed.lost_date
        when removed.lost_date is null then removed.withdrawn_date
        when removed.withdrawn_date < removed.lost_date then removed.withdrawn_date
        else removed.lost_date
    end as left_stock_date,
    titles.media_type,
    titles.audience
from added
left join removed on removed.item_id = added.item_id
left join newest_home on newest_home.item_id = added.item_id
left join branches on branches.branch_code = added.home_branch_code
left join titles on titles.title_id = added.title_id
