{#- One row per metric and month relative to the join (0 = the month of the join date,
    -1 the month before, …): the before/after-join comparison of metrics.md, a
    difference-in-differences of the five joiners against the four earlier members.
      gap(k)  = population-weighted mean over the joiners of (x_joiner − x_earlier),
                where x_earlier is the earlier members' population-weighted mean in the
                same calendar month;
      baseline = the mean gap over the months before the join (k < 0);
      difference_in_differences(k) = gap(k) − baseline.
    The caveat travels with every row: the earlier members are not an untouched control
    group, since their residents gain the joiners' stock on the same day. -#}
with metric_values as (

    select * from {{ ref('int_equity_metric_values') }}
    where period_type = 'month'
      and metric_value is not null
      and weight > 0

),

earlier_members as (

    select
        period_start,
        metric,
        sum(weight * metric_value) / sum(weight) as earlier_members_mean,
        count(*) as earlier_municipalities
    from metric_values
    where cohort = 'earlier_members'
    group by period_start, metric

),

joiners as (

    select
        metric_values.*,
        {{ date_diff_months(month_start('cohort_joined_on'), 'period_start') }}
            as months_since_join
    from metric_values
    where cohort = 'joiners'
      and cohort_joined_on is not null

),

gaps as (

    select
        joiners.metric,
        joiners.months_since_join,
        min(joiners.period_start) as first_calendar_month,
        max(joiners.period_start) as last_calendar_month,
        count(*) as joiner_municipalities,
        max(earlier_members.earlier_municipalities) as earlier_municipalities,
        min(case when joiners.is_complete_period then 1 else 0 end) as all_months_complete,
        sum(joiners.weight * joiners.metric_value) / sum(joiners.weight) as joiners_mean,
        sum(joiners.weight * earlier_members.earlier_members_mean) / sum(joiners.weight)
            as earlier_members_mean,
        sum(joiners.weight * (joiners.metric_value - earlier_members.earlier_members_mean))
            / sum(joiners.weight) as gap,
        max(joiners.data_source) as data_source
    from joiners
    inner join earlier_members
        on earlier_members.period_start = joiners.period_start
        and earlier_members.metric = joiners.metric
    group by joiners.metric, joiners.months_since_join

),

baseline as (

    select
        metric,
        avg(gap) as baseline_gap,
        count(*) as baseline_months
    from gaps
    where months_since_join < 0
    group by metric

)

select
    gaps.metric,
    cast(gaps.months_since_join as bigint) as months_since_join,
    gaps.months_since_join >= 0 as is_after_join,
    gaps.first_calendar_month,
    gaps.last_calendar_month,
    cast(gaps.joiner_municipalities as bigint) as joiner_municipalities,
    cast(gaps.earlier_municipalities as bigint) as earlier_municipalities,
    gaps.all_months_complete = 1 as is_complete_period,
    round(gaps.joiners_mean, 6) as joiners_mean,
    round(gaps.earlier_members_mean, 6) as earlier_members_mean,
    round(gaps.gap, 6) as gap,
    round(baseline.baseline_gap, 6) as baseline_gap,
    cast(coalesce(baseline.baseline_months, 0) as bigint) as baseline_months,
    round(gaps.gap - baseline.baseline_gap, 6) as difference_in_differences,
    'The earlier members are affected by the join too: from the join date their residents '
    || 'can borrow and reserve the stock of the joiners. They are not an untouched control group, '
    || 'so the difference-in-differences shows how the gap between the groups changed, not '
    || 'the effect of joining alone.' as caveat,
    'De tidigare medlemmarna påverkas också av anslutningen: från anslutningsdagen kan deras '
    || 'invånare låna och reservera de nya medlemmarnas medier. De är alltså ingen opåverkad '
    || 'jämförelsegrupp, och skillnaden-i-skillnader visar hur avståndet mellan grupperna '
    || 'har förändrats, inte enbart effekten av anslutningen.' as caveat_sv,
    gaps.data_source
from gaps
left join baseline on baseline.metric = gaps.metric
