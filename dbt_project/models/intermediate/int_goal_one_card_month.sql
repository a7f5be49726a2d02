{#- One row per month: the "one card" KPI of the 2024 goal, year to date
    (int_goal_one_card_month_keyed), where the year-to-date people counts of a month
    frozen by the retention rule are the frozen ones (retained_goal_one_card_month): the
    patron keys of its year are gone, or about to go, in part. The share is the one
    computed from the two counts either way. -#}
with computed as (

    select * from {{ ref('int_goal_one_card_month_keyed') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

-- frozen counts of this lending-core database (a rebuilt one starts again)
frozen as (

    select retained.*, retained.month_start as period_start
    from {{ ref('retained_goal_one_card_month') }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

counts as (

    select
        computed.month_start,
        computed.year,
        computed.period_state_date,
        computed.is_complete_period,
        {{ frozen_or_computed('active_borrowers_ytd', frozen_periods='frozen') }}
            as active_borrowers_ytd,
        {{ frozen_or_computed('multi_municipality_borrowers_ytd', frozen_periods='frozen') }}
            as multi_municipality_borrowers_ytd
    from computed
    left join frozen on frozen.month_start = computed.month_start

)

select
    counts.*,
    {{ safe_divide('multi_municipality_borrowers_ytd', 'active_borrowers_ytd') }}
        as multi_municipality_borrower_share_ytd
from counts
