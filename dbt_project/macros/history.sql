{#- Versions of a landed history table (LANDING.md, "history"): every row landed for a key
    is valid from its partition's as-of date (`valid_from`) until the next row landed for
    the same key (`valid_to`, exclusive; null while current). A `deleted` row only ends
    the version before it, so it is left out; so are rows whose key the retention rule
    removed (they describe versions that ended before its cutoff).

    The state on a date d is the versions with valid_from <= d < valid_to (`valid_on`),
    the same rows a full copy of the table taken on d held; the current state is the
    versions with no valid_to. -#}
{% macro history_versions(relation, key) -%}
    select
        *
    from (
        select
            *,
            cast(date as date) as valid_from,
            lead(cast(date as date)) over (
                partition by {{ key | join(', ') }} order by date
            ) as valid_to
        from {{ relation }}
        where {% for column in key %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    ) as landed
    where change <> 'deleted'
{%- endmacro %}


{#- The versions of a history staging view valid on `day` (a date expression). -#}
{% macro valid_on(day, prefix='') -%}
    ({{ prefix }}valid_from <= {{ day }} and ({{ prefix }}valid_to is null or {{ prefix }}valid_to > {{ day }}))
{%- endmacro %}
