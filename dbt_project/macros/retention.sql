{#- The retention rule for patron keys (ingestion/LANDING.md, "Retention").

    `retention_cutoff()` is the cutoff of this run as a date literal: the first day whose
    events keep their patron keys. Only the retention step sets it (var retention_cutoff,
    from BIBBLA_RETENTION_MONTHS), for the run that freezes what the keys of the earlier
    periods count; every other run gets none, and the models under models/retention/ then
    add nothing. The cutoff is always the first day of a month. -#}
{% macro retention_cutoff() -%}
    {%- set cutoff = var('retention_cutoff', '') | string | trim -%}
    {%- if not cutoff -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-01$', cutoff) -%}
        {{ exceptions.raise_compiler_error(
            "var retention_cutoff must be the first day of a month (YYYY-MM-01), got '" ~ cutoff ~ "'"
        ) }}
    {%- endif -%}
    {{ return(date_literal(cutoff)) }}
{%- endmacro %}

{#- A condition that is true for rows dated before this run's cutoff, and false for every
    row when the run has none (so that a model freezes nothing). -#}
{% macro before_retention_cutoff(date_expression) -%}
    {%- set cutoff = retention_cutoff() -%}
    {%- if cutoff -%}
        {{ date_expression }} < {{ cutoff }}
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}

{#- This run's cutoff as a column value (null when it has none). -#}
{% macro retention_cutoff_value() -%}
    {%- set cutoff = retention_cutoff() -%}
    {{ cutoff if cutoff else 'cast(null as date)' }}
{%- endmacro %}

{#- A count of distinct people in a live model: the value frozen by the retention rule when
    the period is one it froze (its patron keys are or will be gone, so the count computed
    now would be short), else the value computed from the keys. `frozen_periods` has one
    row per frozen (period_type, period_start); `frozen` the frozen row of this one, if any
    (a frozen period without a row for it counted nobody). -#}
{% macro frozen_or_computed(column, computed='computed', frozen='frozen', frozen_periods='frozen_periods') -%}
    cast(
        case
            when {{ frozen_periods }}.period_start is null then {{ computed }}.{{ column }}
            else coalesce({{ frozen }}.{{ column }}, 0)
        end as bigint
    )
{%- endmacro %}

{#- The body of retained_loan_borrowers and retained_hold_residents: for each loan (hold)
    begun before this run's cutoff and not frozen yet, the home municipality and category
    of the patron behind it, read from the patron key while it is still there.
    `event_type` is the event that begins it ('checkout', 'hold_placed'), `id_column` its
    id, `month_column` and `municipality_column` the names the fact uses for them. -#}
{% macro retained_patron_attributes(event_type, id_column, month_column, municipality_column) %}
with beginnings as (

    select database_id, {{ id_column }}, event_date, patron_key
    from {{ ref('stg_lending_core__circulation_event') }}
    where event_type = '{{ event_type }}'
      and patron_key is not null
      and {{ before_retention_cutoff('event_date') }}

),

patrons as (

    select * from {{ ref('int_patrons') }}

),

{% if is_incremental() %}

already_retained as (

    select database_id, {{ id_column }} from {{ this }}

),

{% endif %}

attributed as (

    select
        beginnings.database_id,
        beginnings.{{ id_column }},
        {{ month_start('beginnings.event_date') }} as {{ month_column }},
        patrons.home_municipality_code as {{ municipality_column }},
        patrons.patron_category,
        {{ retention_cutoff_value() }} as retained_before
    from beginnings
    inner join patrons on patrons.patron_key = beginnings.patron_key

)

select attributed.*
from attributed
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = attributed.database_id
    and already_retained.{{ id_column }} = attributed.{{ id_column }}
where already_retained.{{ id_column }} is null
{% endif %}
{% endmacro %}

{#- The body of retained_equity_loan_people, retained_equity_hold_people and
    retained_municipality_pair_people: the distinct-people `count_columns` of the keyed
    model `keyed_model` for every row (`keys`: a municipality, or a pair of them) and period
    that begins before this run's cutoff and is not frozen yet. -#}
{% macro retained_people_counts(keyed_model, count_columns, keys=['municipality_code']) %}
with computed as (

    select * from {{ ref(keyed_model) }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

{% if is_incremental() %}

already_retained as (

    select distinct database_id, period_type, period_start from {{ this }}

),

{% endif %}

frozen as (

    select
        provenance.database_id,
        {%- for key in keys %}
        computed.{{ key }},
        {%- endfor %}
        computed.period_type,
        computed.period_start,
        {%- for column in count_columns %}
        computed.{{ column }},
        {%- endfor %}
        {{ retention_cutoff_value() }} as retained_before
    from computed
    cross join provenance
    where {{ before_retention_cutoff('computed.period_start') }}

)

select frozen.*
from frozen
{% if is_incremental() %}
left join already_retained
    on already_retained.database_id = frozen.database_id
    and already_retained.period_type = frozen.period_type
    and already_retained.period_start = frozen.period_start
where already_retained.period_start is null
{% endif %}
{% endmacro %}

{#- The body of int_equity_loans, int_equity_holds and int_municipality_pairs: the counts
    of `keyed_model` per row (`keys`: a municipality, or a pair of them) and period, where
    each count of distinct people (`columns`: pairs of column name and whether it counts
    people) of a period the retention rule froze is the frozen one from `retained_model`,
    for this lending-core database. -#}
{% macro frozen_people_overlay(keyed_model, retained_model, columns, keys=['municipality_code']) %}
with computed as (

    select * from {{ ref(keyed_model) }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

-- frozen counts of this lending-core database (a rebuilt one starts again)
frozen as (

    select retained.*
    from {{ ref(retained_model) }} as retained
    inner join provenance on provenance.database_id = retained.database_id

),

frozen_periods as (

    select distinct period_type, period_start from frozen

)

select
    {%- for key in keys %}
    computed.{{ key }},
    {%- endfor %}
    computed.period_type,
    computed.period_start,
    {%- for column, is_people in columns %}
    {% if is_people -%}
    {{ frozen_or_computed(column) }} as {{ column }}
    {%- else -%}
    computed.{{ column }}
    {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
from computed
left join frozen_periods
    on frozen_periods.period_type = computed.period_type
    and frozen_periods.period_start = computed.period_start
left join frozen
    on frozen.period_type = computed.period_type
    {%- for key in keys %}
    and frozen.{{ key }} = computed.{{ key }}
    {%- endfor %}
    and frozen.period_start = computed.period_start
{% endmacro %}
