{#- Disclosure control: fails on published counts of 1 to threshold-1 (they must have
    been suppressed to null by the mart). -#}
{% test not_a_small_count(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} > 0 and {{ column_name }} < {{ var('suppression_threshold') }}
{% endtest %}
