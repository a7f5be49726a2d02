-- mart_goal_progress: the milestones of the 2024 goal. The mart describes each milestone in
-- English only; the Swedish wording for the report is added here (falling back to the
-- mart's text for a milestone this list does not know).
select
    milestone_code,
    milestone_kind,
    municipality_code,
    municipality_name,
    case milestone_code
        when 'one_system' then 'Ett biblioteksystem och en katalog för alla nio kommuner'
        when 'one_card' then 'Ett lånekort: låntagare lånar i mer än en medlemskommun'
        when 'larger_supply' then 'Större utbud för invånarna i de fem nya kommunerna'
        when 'equity' then 'Jämlikare utlåning mellan medlemskommunerna år för år'
        when 'cooperation_agreement_approved' then 'Nytt samverkansavtal godkänt av kommunfullmäktige'
        when 'joint_procurement' then 'Gemensam upphandling av biblioteksystem och webb klar'
        else description
    end as milestone_sv,
    case milestone_code
        when 'one_system' then 1
        when 'one_card' then 2
        when 'larger_supply' then 3
        when 'equity' then 4
        when 'joint_procurement' then 5
        else 6
    end as sort_order,
    kpi_metric,
    d.label_sv as kpi_label,
    kpi_value,
    case
        when d.unit_sv like 'andel%' then '0.0%'
        when d.display_decimals = 0 then '#,##0'
        when d.display_decimals = 1 then '#,##0.0'
        when d.display_decimals = 2 then '#,##0.00'
        else '#,##0.000'
    end as kpi_fmt,
    kpi_date,
    case when kpi_is_preliminary then 'preliminärt' end as kpi_preliminary_sv,
    target_comparison,
    case target_comparison
        when '>=' then 'minst'
        when '>' then 'över'
        when '<=' then 'högst'
        when '<' then 'under'
        when '=' then 'lika med'
    end as target_comparison_sv,
    target_value,
    -- the mart's status says whether the target was ever met; this says whether the latest
    -- value still meets it
    case target_comparison
        when '>=' then kpi_value >= target_value
        when '>' then kpi_value > target_value
        when '<=' then kpi_value <= target_value
        when '<' then kpi_value < target_value
        when '=' then kpi_value = target_value
    end as latest_meets_target,
    target_date,
    actual_date,
    status,
    case status
        when 'met_on_time' then 'Uppnått i tid'
        when 'met_late' then 'Uppnått efter måldatum'
        when 'not_met' then 'Inte uppnått'
        when 'in_progress' then 'Pågår'
        when 'met_preliminary' then 'Preliminärt uppnått (bara en del av året finns)'
    end as status_sv,
    kpi_is_preliminary,
    status in ('met_on_time', 'met_late') as is_met,
    as_of_date,
    target_is_example,
    actual_date_is_example,
    target_is_example or actual_date_is_example or data_source = 'example data' as has_example_data,
    g.data_source
from main.mart_goal_progress as g
left join main.metric_definitions as d on d.metric = g.kpi_metric
