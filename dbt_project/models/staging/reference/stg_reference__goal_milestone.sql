{#- Milestones of the 2024 goal that leave no trace in the lending core (the joint
    procurement, each council's approval of the cooperation agreement). -#}
with source as (

    select * from {{ source('reference', 'goal_milestone') }}

)

select
    milestone_code,
    description as milestone_description,
    municipality_code,
    target_date,
    target_date_is_example,
    actual_date,
    actual_date_is_example,
    source as milestone_source
from source
