{#- One row per collection-balancing move of a copy (event item_rehomed): the day its home
    branch changed, from which branch to which (docs/domain.md). -#}
select
    event_id,
    item_id,
    title_id,
    event_date as rehomed_date,
    from_branch_code,
    to_branch_code
from {{ ref('stg_lending_core__circulation_event') }}
where event_type = 'item_rehomed'
