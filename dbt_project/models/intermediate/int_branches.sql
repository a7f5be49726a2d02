{#- One row per branch as the newest snapshot describes it, with whether it lends: the
    hub (Örebro main library's sorting point for the county van) lends nothing and is
    left out of per-capita figures (docs/domain.md). -#}
with branches as (

    select * from {{ ref('stg_lending_core__branch') }}
    where is_latest_snapshot

)

select
    branch_code,
    branch_name,
    municipality_code,
    branch_kind,
    branch_kind <> 'hub' as lends,
    staffed_hours_per_week,
    staffless_hours_per_week,
    staffed_hours_per_week + staffless_hours_per_week as open_hours_per_week,
    open_days,
    latitude,
    longitude
from branches
