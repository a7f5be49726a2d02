{#- One row per metric a report shows: its Swedish label and unit, its definition (English
    and Swedish, following docs/metrics.md) and the mart and column that hold it, so every
    number on a page can link to its definition. Maintained as the seed metric_catalogue;
    tests/warehouse checks that every mart and column named here exists. -#}
select
    metric,
    section,
    label_sv,
    unit_sv,
    cast(display_decimals as bigint) as display_decimals,
    marts,
    column_name,
    definition_en,
    definition_sv,
    'docs/metrics.md' as specification
from {{ ref('metric_catalogue') }}
