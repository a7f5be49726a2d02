-- Every metric a report shows, with its Swedish label and definition ("Så räknar vi").
select
    metric,
    section,
    label_sv,
    unit_sv,
    display_decimals,
    marts,
    column_name,
    definition_sv,
    specification
from main.metric_definitions
