{#- The de-duplicated events (a table built incrementally: a build numbers only the events
    whose key is new or landed twice) hold no event the landing no longer has. After a
    build every landed key is in the table with its copies counted, so the table's copies
    add up to the landed rows exactly unless some event left the landing since it was
    built (a landed file removed by hand, say, not the retention rule, whose rebuild
    numbers every event again): then its copies are still counted here. Rebuild it with
    `bibbla warehouse build --full-refresh`. Reads one column of the landing. -#}
{{ config(severity='error', enabled=(target.type != 'spark')) }}

with built as (

    select database_id, sum(landed_copies) as copies
    from {{ ref('stg_lending_core__circulation_event') }}
    group by database_id

),

landed as (

    select database_id, count(*) as copies
    from {{ source('lending_core', 'circulation_event') }}
    group by database_id

)

select
    coalesce(built.database_id, landed.database_id) as database_id,
    built.copies as copies_in_the_warehouse,
    landed.copies as copies_landed
from built
full join landed on landed.database_id = built.database_id
where built.copies is distinct from landed.copies
