{#- One row per branch (library, staffless point, book bus, or the van's hub) as the
    newest snapshot describes it. -#}
select
    branches.branch_code,
    branches.branch_name,
    branches.municipality_code,
    branches.branch_kind,
    branches.lends,
    branches.staffed_hours_per_week,
    branches.staffless_hours_per_week,
    branches.open_hours_per_week,
    branches.open_days,
    branches.latitude,
    branches.longitude
from {{ ref('int_branches') }} as branches
