{{ config(tags=['retention']) }}
-- Run by the retention step after freezing and before the landing loses any key: every
-- municipality (and pair of municipalities) and period that begins before the cutoff has
-- its people counts frozen, and
-- every month of a year that begins before the cutoff its year-to-date "one card" counts.
-- (The values themselves are the ones computed in the same run; once keys are gone they
-- cannot be compared again.) Without the var retention_cutoff it checks nothing.
with provenance as (

    select * from {{ ref('int_data_provenance') }}

),

loan_people as (

    select retained.*
    from {{ ref('retained_equity_loan_people') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

hold_people as (

    select retained.*
    from {{ ref('retained_equity_hold_people') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

pair_people as (

    select retained.*
    from {{ ref('retained_municipality_pair_people') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

one_card as (

    select retained.*
    from {{ ref('retained_goal_one_card_month') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

)

select 'loans' as counts, computed.municipality_code, computed.period_type, computed.period_start
from {{ ref('int_equity_loans_keyed') }} as computed
left join loan_people as frozen
    on frozen.municipality_code = computed.municipality_code
    and frozen.period_type = computed.period_type
    and frozen.period_start = computed.period_start
where {{ before_retention_cutoff('computed.period_start') }}
  and frozen.period_start is null

union all

select 'holds', computed.municipality_code, computed.period_type, computed.period_start
from {{ ref('int_equity_holds_keyed') }} as computed
left join hold_people as frozen
    on frozen.municipality_code = computed.municipality_code
    and frozen.period_type = computed.period_type
    and frozen.period_start = computed.period_start
where {{ before_retention_cutoff('computed.period_start') }}
  and frozen.period_start is null

union all

select 'pairs', computed.owner_municipality_code, computed.period_type, computed.period_start
from {{ ref('int_municipality_pairs_keyed') }} as computed
left join pair_people as frozen
    on frozen.owner_municipality_code = computed.owner_municipality_code
    and frozen.borrower_municipality_code = computed.borrower_municipality_code
    and frozen.period_type = computed.period_type
    and frozen.period_start = computed.period_start
where {{ before_retention_cutoff('computed.period_start') }}
  and frozen.period_start is null

union all

select 'one_card', cast(null as {{ dbt.type_string() }}), 'month', computed.month_start
from {{ ref('int_goal_one_card_month_keyed') }} as computed
left join one_card as frozen on frozen.month_start = computed.month_start
where {{ before_retention_cutoff(year_start('computed.month_start')) }}
  and frozen.month_start is null
