-- mart_scenario_advice_check: the collection advice tried out in a rerun of the simulation
-- (`make scenario-advice`), one row per seed: the hold wait days the advice expected to
-- save on the moved titles against those the rerun saved. Counts resting on fewer than
-- five holds come as the mart publishes them (null).
--
-- Evidence cannot build a source without rows, and the mart is empty until the advice has
-- been tried: then one row of nulls, which the page leaves out (it selects by scenario).
with checks as (

    select
        scenario,
        seed,
        scale,
        start_date,
        end_date,
        moves_on,
        until_date,
        -- as text here: Evidence types a column of nulls (no check yet) as text, and a
        -- page's date function on it would fail in the browser
        cast(moves_on as varchar) || ' – ' || cast(until_date as varchar) as compared_days,
        moves,
        copies,
        copies_moved,
        titles,
        baseline_holds,
        rerun_holds,
        predicted_wait_days_saved,
        simulated_wait_days_saved,
        simulated_to_predicted,
        control_wait_days_saved_per_hold,
        is_suppressed,
        data_source
    from main.mart_scenario_advice_check

)

select checks.*
from (select 1 as one) as always
left join checks on true
