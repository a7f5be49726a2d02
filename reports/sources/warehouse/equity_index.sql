-- mart_equity_index_month and _year in one query (`grain`: month or year; the marts have the
-- same columns): inequality across municipalities per period, metric and scope
-- (members / all_with_data), with the metric's Swedish label and the captions the page shows.
--
-- Withheld in the mart, not here: where a municipality in scope has a value resting on 1-4
-- people, the mart publishes no statistic for that index (is_withheld, with the number of
-- municipalities it would have covered), since computed without that municipality the
-- index would cover fewer municipalities than it says, and computed with it, beside the
-- others' published values and populations, it would give the hidden value back.
with periods as (

    select 'month' as grain, * from main.mart_equity_index_month
    union all by name
    select 'year' as grain, * from main.mart_equity_index_year

)

select
    i.grain,
    i.period_start,
    case i.grain when 'month' then strftime(i.period_start, '%Y-%m') end as month,
    case i.grain when 'year' then cast(i.year as varchar) end as year_label,
    i.year,
    i.is_complete_period,
    i.metric,
    d.label_sv as metric_label,
    i.scope,
    i.municipalities,
    i.hidden_municipalities,
    i.is_withheld,
    case when i.is_withheld then
        'Visas inte: ' || cast(i.hidden_municipalities as varchar)
        || case when i.hidden_municipalities = 1 then ' kommuns' else ' kommuners' end
        || ' uppgift vilar på färre än fem personer, och måttet över '
        || cast(i.municipalities as varchar) || ' kommuner skulle avslöja den.'
    end as withheld_reason_sv,
    i.members_joined_in_period,
    i.first_join_in_period,
    case when i.scope = 'members' and i.members_joined_in_period > 0 then
        cast(i.members_joined_in_period as varchar)
        || case when i.members_joined_in_period = 1 then ' kommun' else ' kommuner' end
        || ' anslöt under perioden (' || strftime(i.first_join_in_period, '%Y-%m-%d')
        || ') och räknas här för hela perioden, också tiden före anslutningen.'
    end as members_caption_sv,
    i.mean_value,
    i.coefficient_of_variation,
    i.gini,
    i.max_min_ratio,
    i.theil_t,
    i.theil_within,
    i.theil_between,
    i.data_source
from periods as i
left join main.metric_definitions as d on d.metric = i.metric
