{#- One row per landed table: how fresh it is (the newest event date or snapshot as-of
    date; for reference tables the newest year they hold), how many rows it has (events:
    after de-duplication; snapshots: in the current state), how many rows ingestion
    quarantined and how many duplicate event copies staging removed. Reports show it on
    the data-quality page; tests fail on quarantined rows.

    A snapshot table's as-of dates are the snapshot manifest's (one per ingestion run);
    the rows a history table held on each are counted from its versions as a running sum
    (+1 where a version begins, -1 where it ends), so that newest_date and snapshot_count
    (the as-of dates on which the table held rows) are what daily copies gave. -#}
{%- set histories = [
    'municipality', 'membership', 'branch', 'van_route', 'collection', 'circulation_rule',
    'title', 'item', 'patron', 'open_loan', 'active_hold', 'open_transport',
    'simulation_run'
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

manifest as (

    select * from {{ ref('stg_lending_core__snapshot_manifest') }}

),

as_of_dates as (

    select distinct snapshot_date from manifest

),

{% for name in histories %}
{{ name }}_steps as (

    -- one pass over the versions: +1 on the day each begins, -1 on the day it ends, and
    -- the current versions counted on the way (each view is read once: Spark inlines
    -- every reference to a CTE)
    select
        case when sides.side = 1 then versions.valid_from else versions.valid_to end
            as step_date,
        sum(sides.side) as step,
        sum(case when sides.side = 1 and versions.valid_to is null then 1 else 0 end)
            as current_rows
    from {{ ref('stg_lending_core__' ~ name) }} as versions
    cross join (select 1 as side union all select -1 as side) as sides
    where sides.side = 1 or versions.valid_to is not null
    group by case when sides.side = 1 then versions.valid_from else versions.valid_to end

),

{{ name }}_held as (

    select
        held.step_date as snapshot_date,
        held.rows_held
    from (
        select
            step_date,
            sum(step) over (order by step_date rows between unbounded preceding and current row)
                as rows_held
        from (
            select step_date, sum(step) as step
            from (
                select step_date, step from {{ name }}_steps
                union all
                select snapshot_date as step_date, 0 as step from as_of_dates
            ) as steps
            group by step_date
        ) as daily
    ) as held
    inner join as_of_dates on as_of_dates.snapshot_date = held.step_date
    where held.rows_held > 0

),

{{ name }}_summary as (

    select
        (select max(snapshot_date) from {{ name }}_held) as newest_date,
        (select count(*) from {{ name }}_held) as snapshot_count,
        (select coalesce(sum(current_rows), 0) from {{ name }}_steps) as current_rows

),

{% endfor %}
tables as (

    select * from events

    {% for name in histories %}
    union all

    select
        '{{ name }}' as table_name,
        'snapshot' as table_kind,
        newest_date,
        cast(null as bigint) as newest_year,
        current_rows,
        snapshot_count,
        0 as duplicate_rows_removed
    from {{ name }}_summary
    {% endfor %}

    union all

    select
        'snapshot_manifest' as table_name,
        'snapshot' as table_kind,
        max(snapshot_date) as newest_date,
        cast(null as bigint) as newest_year,
        sum(case when is_latest_snapshot then 1 else 0 end) as current_rows,
        count(distinct snapshot_date) as snapshot_count,
        0 as duplicate_rows_removed
    from manifest

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
