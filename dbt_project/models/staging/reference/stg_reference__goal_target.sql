{#- The targets of the 2024 goal: the only figures typed in by hand (docs/metrics.md). -#}
with source as (

    select * from {{ source('reference', 'goal_target') }}

)

select
    target_code,
    description as target_description,
    metric as target_metric,
    comparison as target_comparison,
    cast(target_value as double) as target_value,
    target_date,
    is_example as target_is_example,
    source as target_source
from source
