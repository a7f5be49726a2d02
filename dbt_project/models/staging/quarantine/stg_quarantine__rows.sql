{#- Every row ingestion quarantined, one row per quarantined row, with its table and
    reason. Only the reason is kept: the rows broke the contract, so their other columns
    are not trusted. The singular test assert_no_quarantined_rows fails on any row here,
    and mart_data_quality counts them per table. -#}
select
    'circulation_event' as table_name,
    quarantine_reason
from {{ source('quarantine', 'circulation_event') }}

union all

select
    'municipality' as table_name,
    quarantine_reason
from {{ source('quarantine', 'municipality') }}

union all

select
    'membership' as table_name,
    quarantine_reason
from {{ source('quarantine', 'membership') }}

union all

select
    'branch' as table_name,
    quarantine_reason
from {{ source('quarantine', 'branch') }}

union all

select
    'van_route' as table_name,
    quarantine_reason
from {{ source('quarantine', 'van_route') }}

union all

select
    'collection' as table_name,
    quarantine_reason
from {{ source('quarantine', 'collection') }}

union all

select
    'circulation_rule' as table_name,
    quarantine_reason
from {{ source('quarantine', 'circulation_rule') }}

union all

select
    'title' as table_name,
    quarantine_reason
from {{ source('quarantine', 'title') }}

union all

select
    'item' as table_name,
    quarantine_reason
from {{ source('quarantine', 'item') }}

union all

select
    'patron' as table_name,
    quarantine_reason
from {{ source('quarantine', 'patron') }}

union all

select
    'open_loan' as table_name,
    quarantine_reason
from {{ source('quarantine', 'open_loan') }}

union all

select
    'active_hold' as table_name,
    quarantine_reason
from {{ source('quarantine', 'active_hold') }}

union all

select
    'open_transport' as table_name,
    quarantine_reason
from {{ source('quarantine', 'open_transport') }}

union all

select
    'simulation_run' as table_name,
    quarantine_reason
from {{ source('quarantine', 'simulation_run') }}
