{#- One row per hold placed before a retention cutoff: the home municipality and category
    of the patron who placed it, as fct_holds resolves them from the patron key. Once the
    retention rule has removed the key from the placing (ingestion/retention.py), fct_holds
    places the hold with these. Appended to by the retention step (var retention_cutoff)
    for holds not yet here, before the keys go; never rebuilt. -#}
with placings as (

    select database_id, hold_id, event_date, patron_key
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = 'hold_placed'
      and patron_key is not null
      and {{ before_retention_cutoff('event_date') }}

),

patrons as (

    select * from {{ ref('int_patrons') }}

),

{% if is_incremental() %}

already_retained as (

    select database_id, hold_id from {{ this }}

),

{% endif %}

residents as (

    select
        placings.database_id,
        placings.hold_id,
        {{ month_start('placings.event_date') }} as placed_month,
        patrons.home_municipality_code as resident_municipality_code,
        patrons.patron_category,
        {{ retention_cutoff_value() }} as retained_before
    from placings
    inner join patrons on patrons.patron_key = placings.patron_key

)

select residents.*
from residents
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = residents.database_id
    and already_retained.hold_id = residents.hold_id
where already_retained.hold_id is null
{% endif %}
