{#- The few functions that are spelled differently on DuckDB and Spark. Every model uses
    these (or dbt's own cross-database macros) so the same SQL builds on both targets. -#}

{#- A string field of a JSON object held in a VARCHAR column. -#}
{% macro json_string(column, field) -%}
    {{ return(adapter.dispatch('json_string', 'bibbla')(column, field)) }}
{%- endmacro %}

{% macro default__json_string(column, field) -%}
    json_extract_string({{ column }}, '$.{{ field }}')
{%- endmacro %}

{% macro spark__json_string(column, field) -%}
    get_json_object({{ column }}, '$.{{ field }}')
{%- endmacro %}

{#- Elapsed time between two timestamps in (fractional) days. Seconds are counted on the
    UTC instants, so the result does not depend on the session time zone. -#}
{% macro days_between(start_ts, end_ts) -%}
    (cast({{ dbt.datediff(start_ts, end_ts, 'second') }} as double) / 86400.0)
{%- endmacro %}

{#- Continuous percentile (linear interpolation), an aggregate: both engines accept the
    ordered-set form (docs/stack-notes.md). -#}
{% macro percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{#- Natural logarithm: `ln` on both engines; a macro so a third engine can differ. -#}
{% macro natural_log(expression) -%}
    {{ return(adapter.dispatch('natural_log', 'bibbla')(expression)) }}
{%- endmacro %}

{% macro default__natural_log(expression) -%}
    ln({{ expression }})
{%- endmacro %}

{#- A date literal. -#}
{% macro date_literal(value) -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#- Divide, giving null instead of an error or infinity when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- Calendar arithmetic on DATE values that returns a DATE on every engine (DuckDB's
    date_trunc and date + interval return timestamps). -#}
{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}

{% macro year_start(date_expression) -%}
    cast({{ dbt.date_trunc('year', date_expression) }} as date)
{%- endmacro %}

{% macro add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro add_months(date_expression, months) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}

{#- Whole days from one DATE to another. -#}
{% macro date_diff_days(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{#- Whole calendar months from one month start to another. -#}
{% macro date_diff_months(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'month') }}
{%- endmacro %}

{#- ISO day of the week, 1 = Monday … 7 = Sunday. Engines number weekdays differently
    (Spark's dayofweek starts on Sunday = 1), a classic silent disagreement. -#}
{% macro iso_weekday(date_expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'bibbla')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    cast(isodow({{ date_expression }}) as bigint)
{%- endmacro %}

{% macro spark__iso_weekday(date_expression) -%}
    cast(((dayofweek({{ date_expression }}) + 5) % 7) + 1 as bigint)
{%- endmacro %}

{#- 31 December of a year given as an integer. -#}
{% macro year_end_date(year_expression) -%}
    cast(cast({{ year_expression }} as {{ dbt.type_string() }}) || '-12-31' as date)
{%- endmacro %}

{#- PostgreSQL (dbt-postgres, the benchmarks' alternative warehouse) spells these two
    differently again. -#}
{% macro postgres__json_string(column, field) -%}
    (cast({{ column }} as json) ->> '{{ field }}')
{%- endmacro %}

{% macro postgres__iso_weekday(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as bigint)
{%- endmacro %}

{#- `name as materialized (…)`: a CTE DuckDB computes once instead of inlining it where it
    is read. A chain of CTEs each reading the one before (the passes of
    int_municipality_pair_disclosure) otherwise costs DuckDB's optimiser close to a
    minute on a query of a few rows; PostgreSQL (12+) takes the same keyword, Spark has no
    such hint (and needs none). -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'bibbla')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro spark__materialized_cte() -%}
{%- endmacro %}

{#- An order-free fingerprint of a set of rows: the sum of a 64-bit hash of each row's
    `columns` (int_fact_month_fingerprints). Two sets that differ in any row give another
    sum but with a chance of 2^-64. -#}
{% macro fact_row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('fact_row_fingerprint')(columns)) }}
{%- endmacro %}

{% macro default__fact_row_fingerprint(columns) -%}
    cast(sum(cast(hash({{ columns | join(', ') }}) as hugeint)) as varchar)
{%- endmacro %}

{% macro postgres__fact_row_fingerprint(columns) -%}
    cast(sum(('x' || substr(md5(cast(row({{ columns | join(', ') }}) as text)), 1, 16))::bit(64)::bigint) as text)
{%- endmacro %}

{% macro spark__fact_row_fingerprint(columns) -%}
    cast(sum(cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))) as string)
{%- endmacro %}
