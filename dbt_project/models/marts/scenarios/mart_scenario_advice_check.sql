{#- One row per scenario run that made the baseline's collection advice (`bibbla scenario
    run NAME --apply-advice DATE`, one per seed): what the advice expected to save in hold
    waits on the moved titles, from the moves to the end of the run, against what the
    rerun saved compared with the baseline of the same seed (docs/metrics.md, "The advice
    against a rerun"). The hold counts and the simulated saving rest on the holds of the
    moved titles: on fewer than five holds on either side they are null (is_suppressed),
    and so is the ratio. The expected saving comes from the advice, which publishes it
    whatever the count. -#}
with checks as (

    select * from {{ ref('stg_scenario__advice_check') }}

),

judged as (

    select
        *,
        coalesce(
            baseline_holds < {{ var('suppression_threshold') }}
            or rerun_holds < {{ var('suppression_threshold') }},
            true
        ) as is_suppressed,
        coalesce(control_baseline_holds < {{ var('suppression_threshold') }}, true)
            as is_control_suppressed
    from checks

)

select
    scenario,
    seed,
    scale,
    start_date,
    end_date,
    moves_on,
    until_date,
    moves,
    copies,
    copies_moved,
    titles,
    case when not is_suppressed then baseline_holds end as baseline_holds,
    case when not is_suppressed then rerun_holds end as rerun_holds,
    predicted_wait_days_saved,
    case when not is_suppressed then simulated_wait_days_saved end as simulated_wait_days_saved,
    case
        when not is_suppressed and predicted_wait_days_saved > 0
            then simulated_wait_days_saved / predicted_wait_days_saved
    end as simulated_to_predicted,
    case when not is_control_suppressed then control_change_per_hold end
        as control_wait_days_saved_per_hold,
    is_suppressed,
    cast('simulated' as {{ dbt.type_string() }}) as data_source
from judged
