-- mart_equity_join_did_month: the joiners against the earlier members by month relative to
-- the join, with the Swedish caveat that goes beside the figure.
--
-- Withheld here (as in equity_index_month.sql): the mart's group means are computed on the
-- unsuppressed values, so a month whose group mean includes a value that
-- mart_equity_municipality_month suppresses would give that value back by subtraction. Such
-- months publish no means; the baseline gap (and so every month's difference-in-differences)
-- is withheld when any month before the join is.
with published_values as (

    unpivot (
        select period_start, cohort,
            loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
            accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
            open_hours_per_1000, children_loans_per_child, shared_loan_share
        from main.mart_equity_municipality_month
    )
    on loans_per_capita, renewals_per_capita, active_borrower_share, stock_per_capita,
        accessible_stock_per_capita, hold_fill_rate, transports_per_1000,
        open_hours_per_1000, children_loans_per_child, shared_loan_share
    into name metric value value

),

published_counts as (

    select
        period_start,
        metric,
        count(*) filter (where cohort = 'joiners') as joiners,
        count(*) filter (where cohort = 'earlier_members') as earlier_members
    from published_values
    group by period_start, metric

),

months as (

    select
        j.*,
        -- every calendar month in the relative month must have all its values published
        coalesce(bool_or(
            j.joiner_municipalities > coalesce(p.joiners, 0)
            or j.earlier_municipalities > coalesce(p.earlier_members, 0)
        ), true) as is_withheld
    from main.mart_equity_join_did_month as j
    left join published_counts as p
        on p.metric = j.metric
        and p.period_start between j.first_calendar_month and j.last_calendar_month
    group by all

),

baselines as (

    select metric, bool_or(is_withheld) as baseline_is_withheld
    from months
    where not is_after_join
    group by metric

)

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
    m.is_withheld,
    coalesce(b.baseline_is_withheld, false) as baseline_is_withheld,
    case when not m.is_withheld then m.joiners_mean end as joiners_mean,
    case when not m.is_withheld then m.earlier_members_mean end as earlier_members_mean,
    case when not m.is_withheld then m.gap end as gap,
    case when not coalesce(b.baseline_is_withheld, false) then m.baseline_gap end as baseline_gap,
    m.baseline_months,
    case when not m.is_withheld and not coalesce(b.baseline_is_withheld, false)
        then m.difference_in_differences end as difference_in_differences,
    m.caveat_sv,
    m.data_source
from months as m
left join baselines as b on b.metric = m.metric
left join main.metric_definitions as d on d.metric = m.metric
