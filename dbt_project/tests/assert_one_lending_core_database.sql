-- A landing holds one lending-core database (LANDING.md); events and the newest
-- snapshots must agree on its identity, or ids from two databases would be mixed.
with identities as (
    select distinct database_id from {{ ref('stg_lending_core__circulation_event') }}
    union
    select distinct database_id from {{ ref('stg_lending_core__snapshot_manifest') }}
    where is_latest_snapshot
)
select count(*) as databases
from identities
having count(*) > 1
