{#- Does `value` meet a target by the comparison typed in the goal reference file? -#}
{% macro meets_target(value, comparison, target) -%}
    case {{ comparison }}
        when '>=' then {{ value }} >= {{ target }}
        when '>' then {{ value }} > {{ target }}
        when '<=' then {{ value }} <= {{ target }}
        when '<' then {{ value }} < {{ target }}
        when '=' then {{ value }} = {{ target }}
    end
{%- endmacro %}

{#- A milestone's status on the as-of date: met on time, met late, not met (the target
    date has passed), or in progress. -#}
{% macro milestone_status(actual_date, target_date, as_of_date) -%}
    case
        when {{ actual_date }} is not null and {{ actual_date }} <= {{ target_date }}
            then 'met_on_time'
        when {{ actual_date }} is not null then 'met_late'
        when {{ as_of_date }} > {{ target_date }} then 'not_met'
        else 'in_progress'
    end
{%- endmacro %}
