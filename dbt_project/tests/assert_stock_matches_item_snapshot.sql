-- Stock rebuilt from item events equals the newest item snapshot: items owned by each
-- lending branch and neither withdrawn nor lost. Checked when the snapshot describes the
-- state at the last landed event (taken after it), the normal case after `bibbla ingest`.
with provenance as (
    select * from {{ ref('int_data_provenance') }}
),
snapshot_stock as (
    select items.home_branch_code as branch_code, count(*) as items
    from {{ ref('stg_lending_core__item') }} as items
    where items.is_latest_snapshot
      and items.item_status not in ('withdrawn', 'lost')
    group by items.home_branch_code
),
rebuilt as (
    select stock.branch_code, stock.stock_at_month_end as items
    from {{ ref('int_stock_branch_month') }} as stock
    cross join provenance
    where stock.month_start = {{ month_start('provenance.last_event_date') }}
),
manifest as (
    select max(snapshot_event_id) as snapshot_event_id
    from {{ ref('stg_lending_core__snapshot_manifest') }}
    where is_latest_snapshot
)
select
    coalesce(rebuilt.branch_code, snapshot_stock.branch_code) as branch_code,
    rebuilt.items as rebuilt_items,
    snapshot_stock.items as snapshot_items
from rebuilt
full outer join snapshot_stock on snapshot_stock.branch_code = rebuilt.branch_code
cross join manifest
cross join provenance
where manifest.snapshot_event_id = provenance.last_event_id
  and coalesce(rebuilt.items, 0) <> coalesce(snapshot_stock.items, 0)
