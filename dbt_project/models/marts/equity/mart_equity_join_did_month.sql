{#- One row per metric and month relative to the join (0 = the month of the join date,
    -1 the month before, …): the before/after-join comparison of docs/metrics.md, a
    difference-in-differences of the five joiners against the four earlier members.
      gap(k)  = population-weighted mean over the joiners of (x_joiner − x_earlier),
                where x_earlier is the earlier members' population-weighted mean in the
                same calendar month;
      baseline = the mean gap over the months before the join (k < 0);
      difference_in_differences(k) = gap(k) − baseline.
    The caveat travels with every row: the earlier members are not an untouched control
    group, since their residents gain the joiners' stock on the same day.
    Withheld: a relative month in which any municipality of either group has a hidden
    value (it rests on 1-4 people) publishes no means, gap or difference (a group mean
    beside the others' published values and populations would give the hidden value
    back, and one without it would silently cover fewer municipalities); the baseline,
    and so every month's difference-in-differences, is withheld when any month before the
    join is. -#}
with metric_values as (

    select
        period_start,
        metric,
        cohort,
        cohort_joined_on,
        is_complete_period,
        weight,
        metric_value,
        coalesce(is_hidden, false) as is_hidden,
        data_source
    from {{ ref('int_equity_metric_values') }}
    where period_type = 'month'
      and (metric_value is not null or is_hidden)
      and weight > 0

),

earlier_members as (

    select
        period_start,
        metric,
        sum(case when not is_hidden then weight * metric_value end)
            / sum(case when not is_hidden then weight end) as earlier_members_mean,
        count(*) as earlier_municipalities,
        sum(case when is_hidden then 1 else 0 end) as earlier_hidden
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
        sum(case when joiners.is_hidden then 1 else 0 end)
            + max(earlier_members.earlier_hidden) as hidden_municipalities,
        min(case when joiners.is_complete_period then 1 else 0 end) as all_months_complete,
        sum(case when not joiners.is_hidden then joiners.weight * joiners.metric_value end)
            / sum(case when not joiners.is_hidden then joiners.weight end) as joiners_mean,
        sum(case when not joiners.is_hidden
            then joiners.weight * earlier_members.earlier_members_mean end)
            / sum(case when not joiners.is_hidden then joiners.weight end)
            as earlier_members_mean,
        sum(case when not joiners.is_hidden
            then joiners.weight * (joiners.metric_value - earlier_members.earlier_members_mean) end)
            / sum(case when not joiners.is_hidden then joiners.weight end) as gap,
        max(joiners.data_source) as data_source
    from joiners
    inner join earlier_members
        on earlier_members.period_start = joiners.period_start
        and earlier_members.metric = joiners.metric
    group by joiners.metric, joiners.months_since_join

),

published_gaps as (

    select
        gaps.*,
        gaps.hidden_municipalities > 0 as is_withheld
    from gaps

),

baseline as (

    select
        metric,
        avg(gap) as baseline_gap,
        count(*) as baseline_months,
        max(case when is_withheld then 1 else 0 end) = 1 as baseline_is_withheld
    from published_gaps
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
    cast(gaps.hidden_municipalities as bigint) as hidden_municipalities,
    gaps.all_months_complete = 1 as is_complete_period,
    gaps.is_withheld,
    coalesce(baseline.baseline_is_withheld, false) as baseline_is_withheld,
    case when not gaps.is_withheld then round(gaps.joiners_mean, 6) end as joiners_mean,
    case when not gaps.is_withheld then round(gaps.earlier_members_mean, 6) end
        as earlier_members_mean,
    case when not gaps.is_withheld then round(gaps.gap, 6) end as gap,
    case when not coalesce(baseline.baseline_is_withheld, false)
        then round(baseline.baseline_gap, 6) end as baseline_gap,
    cast(coalesce(baseline.baseline_months, 0) as bigint) as baseline_months,
    case when not gaps.is_withheld and not coalesce(baseline.baseline_is_withheld, false)
        then round(gaps.gap - baseline.baseline_gap, 6) end as difference_in_differences,
    'The earlier members are affected by the join too: from the join date their residents '
    || 'can borrow and reserve the stock of the joiners. They are not an untouched control group, '
    || 'so the difference-in-differences shows how the gap between the groups changed, not '
    || 'the effect of joining alone.' as caveat,
    'De tidigare medlemmarna påverkas också av anslutningen: från anslutningsdagen kan deras '
    || 'invånare låna och reservera de nya medlemmarnas medier. De är alltså ingen opåverkad '
    || 'jämförelsegrupp, och skillnaden-i-skillnader visar hur avståndet mellan grupperna '
    || 'har förändrats, inte enbart effekten av anslutningen.' as caveat_sv,
    gaps.data_source
from published_gaps as gaps
left join baseline on baseline.metric = gaps.metric
