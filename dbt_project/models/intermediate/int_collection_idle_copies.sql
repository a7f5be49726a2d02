{#- One row per title and lending branch where copies of the title stand idle on the
    advice date A (macro advice_as_of): copies in stock for at least the last N months
    (var advice_idle_months), not lent in those months, whose last movement on or before A
    left them on the shelf at that branch. The last movement is the item's newest event on
    or before A among those that move or use a copy: added, returned (checkin), received
    from the van (transport_received) and rehomed where it stands leave it on the shelf;
    checkout, transport_requested/_dispatched, hold_trapped/_ready/_fulfilled/_cancelled/
    _expired, transport_lost and item_withdrawn do not (a copy released from the hold shelf
    is not counted: the feed does not say whether it was shelved). -#}
-- depends_on: {{ ref('stg_lending_core__circulation_event') }}
-- depends_on: {{ ref('int_item_last_movement') }}
with provenance as (

    select * from {{ ref('int_data_provenance') }}

),

as_of as (

    select
        {{ advice_as_of('provenance') }} as advice_as_of,
        {{ add_months(advice_as_of('provenance'), -var('advice_idle_months')) }} as idle_since
    from provenance

),

items as (

    select * from {{ ref('int_items') }}

),

loans as (

    select * from {{ ref('fct_loans') }}

),

branches as (

    select * from {{ ref('int_branches') }}

),

{#- The last day with events: each item's newest movement as int_item_last_movement keeps
    it (built incrementally). A day given as advice_as_of may lie before later events:
    then the newest movement on or before it, from the feed. -#}
last_movement as (

    {% if var('advice_as_of') -%}
    {{ newest_item_movement(
        ref('stg_lending_core__circulation_event'),
        where='event_date <= ' ~ date_literal(var('advice_as_of'))
    ) }}
    {%- else -%}
    select * from {{ ref('int_item_last_movement') }}
    {%- endif %}

),

lent_lately as (

    select distinct loans.item_id
    from loans
    cross join as_of
    where loans.checkout_date > as_of.idle_since
      and loans.checkout_date <= as_of.advice_as_of

),

idle as (

    select
        items.title_id,
        last_movement.branch_code,
        count(*) as idle_copies
    from items
    cross join as_of
    inner join last_movement on last_movement.item_id = items.item_id
    left join lent_lately on lent_lately.item_id = items.item_id
    where last_movement.event_type in {{ shelf_event_types() }}
      and items.added_date <= as_of.idle_since
      and (items.left_stock_date is null or items.left_stock_date > as_of.advice_as_of)
      and lent_lately.item_id is null
    group by items.title_id, last_movement.branch_code

)

select
    as_of.advice_as_of,
    idle.title_id,
    idle.branch_code,
    branches.municipality_code,
    cast(idle.idle_copies as bigint) as idle_copies
from idle
cross join as_of
inner join branches on branches.branch_code = idle.branch_code and branches.lends
