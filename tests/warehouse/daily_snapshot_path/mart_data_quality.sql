{#- One row per landed table: how fresh it is (the newest event date or snapshot as-of
    date; for reference tables the newest year they hold), how many rows it has (events:
    after de-duplication; snapshots: in the newest copy), how many rows ingestion
    quarantined and how many duplicate event copies staging removed. Reports show it on
    the data-quality page; tests fail on quarantined rows. -#}
{%- set snapshots = [
    'municipality', 'membership', 'branch', 'van_route', 'collection', 'circulation_rule',
    'title', 'item', 'patron', 'open_loan', 'active_hold', 'open_transport',
    'simulation_run', 'snapshot_manifest'
] -%}
{%- set references = [
    ('population', 'population_year'),
    ('population_by_age', 'population_year'),
    ('transport_budget', 'budget_year'),
    ('goal_target', none),
    ('goal_milestone', none),
    ('kb_library_statistics', 'sample_year'),
] -%}
with quarantine as (

    select table_name, count(*) as quarantined_rows
    from {{ ref('stg_quarantine__rows') }}
    group by table_name

),

events as (

    select
        'circulation_event' as table_name,
        'events' as table_kind,
        max(event_date) as newest_date,
        cast(null as bigint) as newest_year,
        count(*) as current_rows,
        cast(null as bigint) as snapshot_count,
        sum(landed_copies - 1) as duplicate_rows_removed
    from {{ ref('stg_lending_core__circulation_event') }}

),

tables as (

    select * from events

    {% for name in snapshots %}
    union all

    select
        '{{ name }}' as table_name,
        'snapshot' as table_kind,
        max(snapshot_date) as newest_date,
        cast(null as bigint) as newest_year,
        sum(case when is_latest_snapshot then 1 else 0 end) as current_rows,
        count(distinct snapshot_date) as snapshot_count,
        0 as duplicate_rows_removed
    from {{ ref('stg_lending_core__' ~ name) }}
    {% endfor %}

    {% for name, year_column in references %}
    union all

    select
        '{{ name }}' as table_name,
        'reference' as table_kind,
        cast(null as date) as newest_date,
        {% if year_column %}max({{ year_column }}){% else %}cast(null as bigint){% endif %}
            as newest_year,
        count(*) as current_rows,
        cast(null as bigint) as snapshot_count,
        0 as duplicate_rows_removed
    from {{ ref('stg_reference__' ~ name) }}
    {% endfor %}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

)

select
    tables.table_name,
    tables.table_kind,
    tables.newest_date,
    cast(tables.newest_year as bigint) as newest_year,
    -- how far a snapshot lags behind the newest landed event (0 = taken after it)
    cast(case when tables.table_kind = 'snapshot'
        then {{ date_diff_days('tables.newest_date', 'provenance.last_event_date') }} end
        as bigint) as days_behind_events,
    cast(coalesce(tables.current_rows, 0) as bigint) as current_rows,
    cast(tables.snapshot_count as bigint) as snapshot_count,
    cast(coalesce(quarantine.quarantined_rows, 0) as bigint) as quarantined_rows,
    cast(coalesce(tables.duplicate_rows_removed, 0) as bigint) as duplicate_rows_removed,
    case
        when tables.table_kind = 'reference' then 'reference file'
        else provenance.data_source
    end as data_source
from tables
cross join provenance
left join quarantine on quarantine.table_name = tables.table_name
