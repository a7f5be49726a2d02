-- The incremental facts must come from the database now in the landing. After
-- `bibbla ingest --full-refresh` (a rebuilt lending core) the warehouse needs a full
-- refresh too; `bibbla warehouse build` does that by itself.
with landed as (
    select database_id from {{ ref('int_data_provenance') }}
),
facts as (
    select distinct database_id from {{ ref('fct_loans') }}
    union
    select distinct database_id from {{ ref('fct_holds') }}
    union
    select distinct database_id from {{ ref('fct_transports') }}
)
select facts.database_id
from facts
cross join landed
where facts.database_id <> landed.database_id
