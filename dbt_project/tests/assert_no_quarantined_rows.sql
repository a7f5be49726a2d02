-- Ingestion keeps rows that broke the landing contract in _quarantine/ with the reason
-- (docs/architecture.md: nothing lost silently). Any such row fails the build until it is
-- understood: fix the source or the contract, then land again.
select table_name, quarantine_reason, count(*) as quarantined_rows
from {{ ref('stg_quarantine__rows') }}
group by table_name, quarantine_reason
