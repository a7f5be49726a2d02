{#- Disclosure control (docs/metrics.md "Small numbers"). A published cell that rests on 1 to
    threshold-1 people is replaced by null: a rate when the distinct people behind it are
    that few (its group's *_suppressed flag is set), a count also when it is itself 1-4
    (loans or holds of at most 4 people); has_suppressed_cells marks every row with a null
    from this rule. Zero is kept (it points at nobody). Suppression happens in the marts, not on the page: a static
    report site ships its query results to the browser. -#}
{% macro is_small_count(people) -%}
    ({{ people }} > 0 and {{ people }} < {{ var('suppression_threshold') }})
{%- endmacro %}

{#- A count is published unless its group is suppressed or it is itself 1-4. -#}
{% macro suppressed_count(value, suppressed_flag) -%}
    case when {{ suppressed_flag }} or {{ is_small_count(value) }} then null else {{ value }} end
{%- endmacro %}

{% macro unless_suppressed(value, suppressed_flag) -%}
    case when {{ suppressed_flag }} then null else {{ value }} end
{%- endmacro %}

{#- The published columns of the per-municipality equity marts, from
    int_equity_municipality_period (aliased `m`). Month and year marts share them. -#}
{% macro published_equity_columns() %}
    {%- set small = var('small_denominator') -%}
    m.municipality_code,
    m.municipality_name,
    m.period_start,
    m.period_last_day,
    m.period_year as year,
    m.is_complete_period,
    m.is_member,
    m.cohort,
    m.population,
    m.population_year,
    m.population_is_carried_forward,
    m.population_scale,
    m.population_denominator,
    m.children_population,
    m.children_population_denominator,
    -- counts (null where suppressed)
    {{ suppressed_count('m.loans', 'f.borrowers_suppressed') }} as loans,
    {{ suppressed_count('m.borrowers', 'f.borrowers_suppressed') }} as active_borrowers,
    {{ suppressed_count('m.renewals', 'f.renewals_suppressed') }} as renewals,
    {{ suppressed_count('m.child_loans', 'f.children_loans_suppressed') }} as child_loans,
    {{ suppressed_count('m.shared_loans', 'f.shared_loans_suppressed') }} as shared_loans,
    {{ suppressed_count('m.loans_of_own_items', 'f.collection_turnover_suppressed') }}
        as loans_of_own_items,
    {{ suppressed_count('m.loans_to_non_residents', 'f.net_lending_suppressed') }}
        as loans_to_non_residents,
    {{ suppressed_count('m.holds_placed', 'f.holds_suppressed') }} as holds_placed,
    {{ suppressed_count('m.holds_cancelled_by_patron', 'f.holds_suppressed') }}
        as holds_cancelled_by_patron,
    {{ suppressed_count('m.holds_ready', 'f.holds_suppressed') }} as holds_ready,
    {{ suppressed_count('m.holds_open', 'f.holds_suppressed') }} as holds_open,
    {{ suppressed_count('m.multi_municipality_borrowers', 'f.multi_municipality_suppressed') }}
        as multi_municipality_borrowers,
    m.stock,
    m.accessible_stock,
    m.transports,
    m.open_hours_per_week,
    -- the metrics of docs/metrics.md
    {{ unless_suppressed('m.loans_per_capita', 'f.borrowers_suppressed') }} as loans_per_capita,
    {{ unless_suppressed('m.renewals_per_capita', 'f.renewals_suppressed') }}
        as renewals_per_capita,
    {{ unless_suppressed('m.active_borrower_share', 'f.borrowers_suppressed') }}
        as active_borrower_share,
    m.stock_per_capita,
    m.accessible_stock_per_capita,
    {{ unless_suppressed('m.collection_turnover', 'f.collection_turnover_suppressed') }}
        as collection_turnover,
    {{ unless_suppressed('m.hold_fill_rate', 'f.holds_suppressed') }} as hold_fill_rate,
    {{ unless_suppressed('m.hold_wait_days_median', 'f.holds_suppressed') }}
        as hold_wait_days_median,
    {{ unless_suppressed('m.hold_wait_days_p90', 'f.holds_suppressed') }} as hold_wait_days_p90,
    {{ unless_suppressed('m.shared_loan_share', 'f.shared_loans_suppressed') }}
        as shared_loan_share,
    {{ unless_suppressed('m.net_lending', 'f.net_lending_suppressed') }} as net_lending,
    m.transports_per_1000,
    m.open_hours_per_1000,
    {{ unless_suppressed('m.children_loans_per_child', 'f.children_loans_suppressed') }}
        as children_loans_per_child,
    {{ unless_suppressed('m.multi_municipality_borrower_share', 'f.multi_municipality_suppressed') }}
        as multi_municipality_borrower_share,
    -- disclosure flags
    f.borrowers_suppressed,
    f.renewals_suppressed,
    f.children_loans_suppressed,
    f.shared_loans_suppressed,
    f.net_lending_suppressed,
    f.collection_turnover_suppressed,
    f.holds_suppressed,
    f.multi_municipality_suppressed,
    (
        f.borrowers_suppressed or f.renewals_suppressed or f.children_loans_suppressed
        or f.shared_loans_suppressed or f.net_lending_suppressed
        or f.collection_turnover_suppressed or f.holds_suppressed
        or f.multi_municipality_suppressed
        {%- for count in var('people_counts').values() %}
        or {{ is_small_count('m.' ~ count) }}
        {%- endfor %}
    ) as has_suppressed_cells,
    -- rates on small denominators: published, but flagged with the reason
    nullif(concat_ws(', ',
        case when m.population_denominator < {{ var('small_population') }}
            then 'population' end,
        case when m.children_population_denominator < {{ var('small_population') }}
            then 'children' end,
        case when m.hold_fill_denominator > 0 and m.hold_fill_denominator < {{ small }}
            and not f.holds_suppressed then 'holds' end,
        case when m.loans > 0 and m.loans < {{ small }}
            and not f.borrowers_suppressed then 'loans' end,
        case when m.stock > 0 and m.stock < {{ small }} then 'stock' end
    ), '') as small_numbers_reason,
    m.hours_from_later_snapshot as open_hours_from_later_snapshot,
    m.data_source
{% endmacro %}

{#- The suppression flags of one row of int_equity_municipality_period (aliased `m`),
    from the distinct people behind each group of cells. -#}
{% macro equity_suppression_flags() %}
    {{ is_small_count('m.borrowers') }} as borrowers_suppressed,
    {{ is_small_count('m.renewing_patrons') }} as renewals_suppressed,
    {{ is_small_count('m.child_borrowers') }} as children_loans_suppressed,
    ({{ is_small_count('m.shared_loan_borrowers') }} or {{ is_small_count('m.borrowers') }})
        as shared_loans_suppressed,
    ({{ is_small_count('m.shared_loan_borrowers') }}
        or {{ is_small_count('m.non_resident_borrowers') }}) as net_lending_suppressed,
    {{ is_small_count('m.own_item_borrowers') }} as collection_turnover_suppressed,
    -- every hold count, not only the patrons: the fill rate and the published counts
    -- would otherwise give a hidden count of 1-4 holds back
    ({{ is_small_count('m.hold_patrons') }} or {{ is_small_count('m.holds_placed') }}
        or {{ is_small_count('m.holds_ready') }}
        or {{ is_small_count('m.holds_cancelled_by_patron') }}
        or {{ is_small_count('m.holds_open') }}) as holds_suppressed,
    ({{ is_small_count('m.multi_municipality_borrowers') }}
        or {{ is_small_count('m.borrowers') }}) as multi_municipality_suppressed
{% endmacro %}

{#- The body of mart_equity_municipality_month and _year, which differ only in the period
    (`period_type`: month or year): every published equity column of that period, with
    primary and complementary suppression applied (int_equity_disclosure). -#}
{% macro published_equity_mart(period_type) %}
with m as (

    select * from {{ ref('int_equity_municipality_period') }}
    where period_type = '{{ period_type }}'

),

flagged as (

    -- primary and complementary suppression (int_equity_disclosure)
    select * from {{ ref('int_equity_disclosure') }}
    where period_type = '{{ period_type }}'

),

published as (

    select
        {{ published_equity_columns() }}
    from m
    inner join flagged as f
        on f.municipality_code = m.municipality_code
        and f.period_start = m.period_start

)

select
    published.*,
    small_numbers_reason is not null as small_numbers_flag
from published
{% endmacro %}

{#- The body of mart_loans_between_municipalities_month and _year, which differ only in the
    period (`period_type`: month or year): per pair of different municipalities (the owner
    of the items, the borrower's home municipality) that were both members or had loans or
    filled holds between them, the loans and filled holds with the people behind each, with primary and complementary suppression applied
    (int_municipality_pair_disclosure: across months, and across the partners of a row or
    a column). -#}
{% macro published_pair_mart(period_type) %}
with flagged as (

    select * from {{ ref('int_municipality_pair_disclosure') }}
    where period_type = '{{ period_type }}'

),

municipality_periods as (

    select * from {{ ref('int_municipality_periods') }}
    where period_type = '{{ period_type }}'

)

select
    f.owner_municipality_code,
    owner.municipality_name as owner_municipality_name,
    f.borrower_municipality_code,
    borrower.municipality_name as borrower_municipality_name,
    f.period_start,
    owner.period_last_day,
    cast(owner.period_year as bigint) as year,
    owner.is_complete_period,
    owner.is_member as owner_is_member,
    coalesce(borrower.is_member, false) as borrower_is_member,
    -- counts (null where suppressed)
    {{ suppressed_count('f.loans', 'f.loans_suppressed') }} as loans,
    {{ suppressed_count('f.borrowers', 'f.loans_suppressed') }} as borrowers,
    {{ suppressed_count('f.holds_filled', 'f.holds_suppressed') }} as holds_filled,
    {{ suppressed_count('f.hold_patrons', 'f.holds_suppressed') }} as hold_patrons,
    -- disclosure flags
    f.loans_suppressed,
    f.holds_suppressed,
    (
        f.loans_suppressed or f.holds_suppressed
        {%- for count in ['loans', 'borrowers', 'holds_filled', 'hold_patrons'] %}
        or {{ is_small_count('f.' ~ count) }}
        {%- endfor %}
    ) as has_suppressed_cells,
    owner.data_source
from flagged as f
inner join municipality_periods as owner
    on owner.municipality_code = f.owner_municipality_code
    and owner.period_start = f.period_start
left join municipality_periods as borrower
    on borrower.municipality_code = f.borrower_municipality_code
    and borrower.period_start = f.period_start
{% endmacro %}
