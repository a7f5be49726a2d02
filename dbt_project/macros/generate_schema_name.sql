{#- A model's custom schema is used as is (staging, intermediate), not prefixed with the
    target schema: report authors read `main.mart_…`, and staging views sit in `staging`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
