{#- The day collection advice is given for (docs/metrics.md, "Collection balancing advice"):
    the dbt var advice_as_of, or else the last day with events. `provenance` is a relation
    with int_data_provenance's columns. -#}
{% macro advice_as_of(provenance) -%}
    {%- if var('advice_as_of') -%}
    {{ date_literal(var('advice_as_of')) }}
    {%- else -%}
    {{ provenance }}.last_event_date
    {%- endif -%}
{%- endmacro %}


{#- The events that move or use a copy, of which an item's newest says where it stands
    (int_item_last_movement, int_collection_idle_copies): added, returned (checkin),
    received from the van and rehomed leave it on the shelf (shelf_event_types); the rest
    do not. -#}
{% macro item_movement_event_types() -%}
    ('item_added', 'checkin', 'transport_received', 'item_rehomed',
     'checkout', 'transport_requested', 'transport_dispatched', 'transport_lost',
     'hold_trapped', 'hold_ready', 'hold_fulfilled', 'hold_cancelled', 'hold_expired',
     'item_withdrawn')
{%- endmacro %}

{% macro shelf_event_types() -%}
    ('item_added', 'checkin', 'transport_received', 'item_rehomed')
{%- endmacro %}

{#- Each item's newest movement among `events` (a relation with the feed's item_id,
    event_id, event_type, branch_code, to_branch_code), and the branch it left the copy
    at: the receiving branch for transport_received, the event's branch otherwise.
    `where` narrows the events first (a SQL condition on their columns). -#}
{% macro newest_item_movement(events, where='true') %}
    select item_id, event_id, event_date, event_type, branch_code
    from (
        select
            item_id,
            event_id,
            event_date,
            event_type,
            case when event_type = 'transport_received' then to_branch_code else branch_code end
                as branch_code,
            row_number() over (partition by item_id order by event_id desc) as newest_first
        from {{ events }}
        where item_id is not null
          and event_type in {{ item_movement_event_types() }}
          and ({{ where }})
    ) as ordered
    where newest_first = 1
{% endmacro %}
