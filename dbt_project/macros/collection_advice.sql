{#- The day collection advice is given for (docs/metrics.md, "Collection balancing advice"):
    the dbt var advice_as_of, or else the last day with events. `provenance` is a relation
    with int_data_provenance's columns. -#}
{% macro advice_as_of(provenance) -%}
    {%- if var('advice_as_of') -%}
    {{ date_literal(var('advice_as_of')) }}
    {%- else -%}
    {{ provenance }}.last_event_date
    {%- endif -%}
{%- endmacro %}
