{#- Several row rules of one model checked in one query: one scan and one test node where
    there would be one of each per rule.

    dbt spends tens of milliseconds of Python on every test node (its macro namespace,
    compiling and writing it, scheduling and logging it), serialised by the interpreter's
    lock whatever the thread count, and a test on a view scans the view's sources again:
    with one test per rule, tests were half of a build with nothing new to build
    (README.md, "Where a build's time goes"). Each rule means what the test of its name
    means on its own:

    - not_null: [column, ...]
    - accepted_values: {column: [value, ...]}  (strings; a null passes, as in dbt's)
    - value_between: {column: {min_value: x, max_value: y}}  (either bound; a null passes)
    - expression_is_true: [boolean SQL, ...]  (a null result fails)
    - unique: [[column, ...], ...]  (every row of a combination that occurs more than once;
      a window count, for a view whose scan costs more than the count)

    Fails on every row that breaks any rule, with the rules it broke in `broken_rules`
    ("not_null(cohort); value_between(loans, 0, )"), so a failure says which rule each
    row broke. Like every test here it reads the model through get_where_subquery (the
    nightly test window, macros/test_window.sql). -#}
{% test row_rules(
    model,
    not_null=[],
    accepted_values={},
    value_between={},
    expression_is_true=[],
    unique=[]
) %}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append((column ~ ' is null', 'not_null(' ~ column ~ ')')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set listed = [] -%}
    {%- for value in values -%}
        {%- do listed.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append((
        column ~ ' not in (' ~ listed | join(', ') ~ ')',
        'accepted_values(' ~ column ~ ')'
    )) -%}
{%- endfor -%}
{%- for column, bounds in value_between.items() -%}
    {%- set low, high = bounds.get('min_value'), bounds.get('max_value') -%}
    {%- set outside = [] -%}
    {%- if low is not none -%}{%- do outside.append(column ~ ' < ' ~ low) -%}{%- endif -%}
    {%- if high is not none -%}{%- do outside.append(column ~ ' > ' ~ high) -%}{%- endif -%}
    {%- if not outside -%}
        {{ exceptions.raise_compiler_error("row_rules: value_between of " ~ column ~ " needs min_value or max_value") }}
    {%- endif -%}
    {%- do checks.append((
        column ~ ' is not null and (' ~ outside | join(' or ') ~ ')',
        'value_between(' ~ column ~ ', ' ~ (low if low is not none else '') ~ ', ' ~ (high if high is not none else '') ~ ')'
    )) -%}
{%- endfor -%}
{%- for expression in expression_is_true -%}
    {%- do checks.append(('not coalesce(' ~ expression ~ ', false)', 'expression_is_true(' ~ expression ~ ')')) -%}
{%- endfor -%}
{%- for columns in unique -%}
    {%- do checks.append((
        'count(*) over (partition by ' ~ columns | join(', ') ~ ') > 1',
        'unique(' ~ columns | join(', ') ~ ')'
    )) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ " names no rule") }}
{%- endif -%}
select *
from (
    select
        *,
        concat_ws('; '
        {%- for condition, rule in checks %},
            case when {{ condition }} then '{{ rule | replace("'", "''") }}' end
        {%- endfor %}
        ) as broken_rules
    from {{ model }}
) checked
where broken_rules <> ''
{% endtest %}
