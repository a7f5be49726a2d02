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
