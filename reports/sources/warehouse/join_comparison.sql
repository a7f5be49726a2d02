-- mart_equity_join_did_month: the joiners against the earlier members by month relative to
-- the join, with the Swedish caveat that goes beside the figure.
--
-- Withheld in the mart, not here: a relative month in which a municipality of either group
-- has a value resting on 1-4 people publishes no means (is_withheld), and the baseline, and
-- so every month's difference-in-differences, is withheld when any month before the join is
-- (baseline_is_withheld).
--
-- Evidence cannot build a source without rows, and a data window in which no municipality
-- joined has none: then one row of nulls, which the pages' queries leave out (they select
-- by metric).
with comparison as (

    select
        m.metric,
        d.label_sv as metric_label,
        m.months_since_join,
        m.is_after_join,
        m.first_calendar_month,
        m.last_calendar_month,
        m.joiner_municipalities,
        m.earlier_municipalities,
        m.is_complete_period,
        m.hidden_municipalities,
        m.is_withheld,
        m.baseline_is_withheld,
        m.joiners_mean,
        m.earlier_members_mean,
        m.gap,
        m.baseline_gap,
        m.baseline_months,
        m.difference_in_differences,
        m.caveat_sv,
        m.data_source
    from main.mart_equity_join_did_month as m
    left join main.metric_definitions as d on d.metric = m.metric

)

select comparison.*
from (select 1 as one) as always
left join comparison on true
