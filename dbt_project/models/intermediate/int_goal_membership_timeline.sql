{#- One row per date on which the membership timeline changes (a join or a leave), plus
    the last day with data: how many municipalities share the system from that day. The
    "one system" milestone reads the first day the count reached its target from here. -#}
with memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

change_days as (

    select joined_on as change_date from memberships
    union
    select left_on as change_date from memberships where left_on is not null
    union
    select last_event_date as change_date from {{ ref('int_data_provenance') }}

)

select
    change_days.change_date,
    cast(count(memberships.municipality_code) as bigint) as member_municipalities
from change_days
left join memberships
    on memberships.joined_on <= change_days.change_date
    and (memberships.left_on is null or memberships.left_on > change_days.change_date)
group by change_days.change_date
