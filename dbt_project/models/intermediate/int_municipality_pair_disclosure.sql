{#- One row per pair of municipalities (owner of the items, borrower's home municipality)
    and reporting period (month and year) of int_municipality_pairs: whether its loan
    cells and its filled-hold cells are published or hidden (docs/metrics.md, "Small
    numbers", "Between municipalities").

    Each group (loans resting on borrowers, filled holds resting on hold_patrons) is a
    three-way table, period × owner × borrower, and a hidden cell must not be recoverable
    as a published total minus published cells. Three kinds of line have such a total:
    - the months of a pair add up to its year (the year mart), for both groups;
    - a row, one owner's pairs in a period, adds up to the owner's loans to
      non-residents (mart_equity_municipality_*.loans_to_non_residents), published when
      that cell is, or when the three it can be worked out from are (loans of own
      items - residents' loans + shared loans);
    - a column, one borrower municipality's pairs in a period, adds up to its residents'
      shared loans (shared_loans), likewise.
    No total of filled holds between municipalities is published anywhere, so holds
    have only the months' line.

    The table holds every pair that could have lent to the other (both members:
    int_municipality_pair_grid), with zeros, and the marts publish them all: a zero may be
    hidden to protect another cell, since a reader cannot tell a hidden zero from another
    hidden cell, unless the zero is plain from what is published (its row or column holds
    nobody, or its pair nobody all year).

    Primary: a cell resting on 1 to threshold-1 people is hidden. Complementary, line by
    line: a line with a published total and hidden cells must hide at least two, resting
    on at least threshold people together; the cells with the fewest people are hidden
    first, zeros only when no other cell is left. A cell that is alone in a row or column
    with a published total equals that total, so it is never hidden for another's sake. In the months of a pair, a year with
    too few months left to hide is hidden itself (as in int_equity_disclosure), and a
    hidden year hides at least one of its months (else it is their sum). A line whose
    every cell is hidden and rests on fewer than threshold people needs nothing more:
    its total rests on the same people, and the equity marts hide it.

    Each pass hides more and never less, so repeating the passes reaches the rule's fixed
    point; `pair_suppression_passes` passes are run, and the test
    assert_municipality_pairs_protect_hidden_cells fails if they were not enough. Where
    a line cannot be protected because the only cells left to hide are alone in their
    other line (the pair then follows from the equity marts' totals alone),
    int_municipality_pair_exposures lists it. -#}
{%- set threshold = var('suppression_threshold') -%}
{%- set passes = var('pair_suppression_passes') -%}
{%- set groups = [('loans', 'borrowers'), ('holds', 'hold_patrons')] -%}
with pairs as (

    select * from {{ ref('int_municipality_pairs') }}

),

-- every pair of the period with its counts, those that could have lent to each other but
-- did not (int_municipality_pair_grid) with zeros: a zero may be hidden to protect
-- another cell, which works only because a reader cannot tell a hidden zero from any
-- other hidden cell
grid as (

    select
        coalesce(pairs.owner_municipality_code, possible.owner_municipality_code)
            as owner_municipality_code,
        coalesce(pairs.borrower_municipality_code, possible.borrower_municipality_code)
            as borrower_municipality_code,
        coalesce(pairs.period_type, possible.period_type) as period_type,
        coalesce(pairs.period_start, possible.period_start) as period_start,
        coalesce(pairs.loans, 0) as loans,
        coalesce(pairs.borrowers, 0) as borrowers,
        coalesce(pairs.holds_filled, 0) as holds_filled,
        coalesce(pairs.hold_patrons, 0) as hold_patrons
    from pairs
    full outer join {{ ref('int_municipality_pair_grid') }} as possible
        on possible.owner_municipality_code = pairs.owner_municipality_code
        and possible.borrower_municipality_code = pairs.borrower_municipality_code
        and possible.period_type = pairs.period_type
        and possible.period_start = pairs.period_start

),

-- whether the equity marts publish a municipality's total over its partners: its loans to
-- non-residents (a row's total), and its residents' loans of other municipalities' items
-- (a column's total). Each can also be worked out from three other published counts:
-- loans to non-residents = loans of own items - (residents' loans - shared loans).
equity_totals as (

    select
        municipality_code,
        period_type,
        period_start,
        not net_lending_suppressed or not (
            collection_turnover_suppressed or borrowers_suppressed or shared_loans_suppressed
        ) as lends_total_published,
        not shared_loans_suppressed or not (
            borrowers_suppressed or collection_turnover_suppressed or net_lending_suppressed
        ) as borrows_total_published
    from {{ ref('int_equity_disclosure') }}

),

cells as (

    {% for group, people in groups %}
    select
        '{{ group }}' as cell_group,
        grid.owner_municipality_code,
        grid.borrower_municipality_code,
        grid.period_type,
        grid.period_start,
        {{ year_start('grid.period_start') }} as year_start,
        grid.{{ people }} as people,
        {{ is_small_count('grid.' ~ people) }} as is_primary,
        {%- if group == 'loans' %}
        coalesce(lender.lends_total_published, false) as row_total_published,
        coalesce(borrower.borrows_total_published, false) as column_total_published
        {%- else %}
        -- no total of filled holds between municipalities is published
        false as row_total_published,
        false as column_total_published
        {%- endif %}
    from grid
    left join equity_totals as lender
        on lender.municipality_code = grid.owner_municipality_code
        and lender.period_type = grid.period_type
        and lender.period_start = grid.period_start
    left join equity_totals as borrower
        on borrower.municipality_code = grid.borrower_municipality_code
        and borrower.period_type = grid.period_type
        and borrower.period_start = grid.period_start
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- Which cells may be hidden for another's sake. A zero that a reader could tell is zero
-- protects nothing: one whose row or column holds nobody in the period, one in a pair with
-- nobody all year (its published year is 0), and a year of such a pair. A cell that is the
-- only one left in a row or column with a published total equals that total.
line_sums as (

    select
        cells.*,
        sum(people) over (
            partition by cell_group, period_type, period_start, owner_municipality_code
        ) as row_people,
        sum(people) over (
            partition by cell_group, period_type, period_start, borrower_municipality_code
        ) as column_people,
        max(case when period_type = 'year' then people else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) as pair_year_people
    from cells

),

hiders as (

    select
        line_sums.*,
        people > 0 or (
            period_type = 'month' and row_people > 0 and column_people > 0
            and pair_year_people > 0
        ) as may_hide
    from line_sums

),

eligibility as (

    select
        hiders.*,
        may_hide
        and not (
            row_total_published
            and sum(case when may_hide then 1 else 0 end) over (
                partition by cell_group, period_type, period_start, owner_municipality_code
            ) = 1
        )
        and not (
            column_total_published
            and sum(case when may_hide then 1 else 0 end) over (
                partition by cell_group, period_type, period_start, borrower_municipality_code
            ) = 1
        ) as is_eligible
    from hiders

),

pass_0 as {{ materialized_cte() }} (

    select
        cell_group, owner_municipality_code, borrower_municipality_code, period_type,
        period_start, year_start, people, is_primary, is_eligible, row_total_published,
        column_total_published,
        is_primary as is_hidden
    from eligibility

),

{% for pass in range(1, passes + 1) %}
{%- set previous = 'pass_' ~ (pass - 1) %}
{%- for line, line_key, other_key, published in [
    ('rows', 'owner_municipality_code', 'borrower_municipality_code', 'row_total_published'),
    ('columns', 'borrower_municipality_code', 'owner_municipality_code', 'column_total_published'),
] %}
{%- set source = previous if line == 'rows' else 'pass_' ~ pass ~ '_rows' %}
{%- set partition = 'partition by cell_group, period_type, period_start, ' ~ line_key %}
{%- set order = 'order by case when is_eligible and not is_hidden then (case when people > 0 then 0 else 1 end) else 2 end, people, ' ~ other_key %}
-- pass {{ pass }}, {{ line }}: hide the smallest eligible cells of an exposed line
pass_{{ pass }}_{{ line }}_ordered as (

    select
        {{ source }}.*,
        sum(case when is_hidden then 1 else 0 end) over ({{ partition }}) as line_hidden,
        sum(case when is_hidden then people else 0 end) over ({{ partition }})
            as line_hidden_people,
        row_number() over ({{ partition }} {{ order }}) as candidate_rank,
        coalesce(sum(case when is_eligible and not is_hidden then people else 0 end) over (
            {{ partition }} {{ order }}
            rows between unbounded preceding and 1 preceding
        ), 0) as people_before
    from {{ source }}

),

pass_{{ pass }}_{{ line }} as (

    select
        cell_group, owner_municipality_code, borrower_municipality_code, period_type,
        period_start, year_start, people, is_primary, is_eligible, row_total_published,
        column_total_published,
        is_hidden or (
            {{ published }}
            and is_eligible
            and line_hidden > 0
            and (
                candidate_rank <= 2 - line_hidden
                or line_hidden_people + people_before < {{ threshold }}
            )
        ) as is_hidden
    from pass_{{ pass }}_{{ line }}_ordered

),
{% endfor %}

-- pass {{ pass }}, months of a pair: hide more months, or the year; a hidden year hides a month
pass_{{ pass }}_months_ordered as (

    select
        pass_{{ pass }}_columns.*,
        period_type = 'month' and is_eligible and not is_hidden and people > 0 as is_candidate,
        max(case when period_type = 'year' and is_hidden then 1 else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) = 1 as year_hidden,
        sum(case when period_type = 'month' and is_hidden then 1 else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) as months_hidden,
        sum(case when period_type = 'month' and is_hidden then people else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) as months_hidden_people,
        sum(case when period_type = 'month' and is_eligible and not is_hidden and people > 0 then 1 else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) as candidate_months,
        sum(case when period_type = 'month' and is_eligible and not is_hidden and people > 0 then people else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
        ) as candidate_people,
        row_number() over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
            order by
                case when period_type = 'month' and is_eligible and not is_hidden and people > 0 then 0 else 1 end,
                people, period_start
        ) as candidate_rank,
        coalesce(sum(case when period_type = 'month' and is_eligible and not is_hidden and people > 0 then people else 0 end) over (
            partition by cell_group, owner_municipality_code, borrower_municipality_code, year_start
            order by
                case when period_type = 'month' and is_eligible and not is_hidden and people > 0 then 0 else 1 end,
                people, period_start
            rows between unbounded preceding and 1 preceding
        ), 0) as people_before
    from pass_{{ pass }}_columns

),

pass_{{ pass }} as {{ materialized_cte() }} (

    select
        cell_group, owner_municipality_code, borrower_municipality_code, period_type,
        period_start, year_start, people, is_primary, is_eligible, row_total_published,
        column_total_published,
        case
            when is_hidden then true
            when period_type = 'year' then
                not year_hidden and months_hidden > 0 and (
                    months_hidden + candidate_months < 2
                    or months_hidden_people + candidate_people < {{ threshold }}
                )
            else is_candidate and (
                (
                    not year_hidden and months_hidden > 0 and (
                        candidate_rank <= 2 - months_hidden
                        or months_hidden_people + people_before < {{ threshold }}
                    )
                )
                or (year_hidden and months_hidden = 0 and candidate_rank = 1)
            )
        end as is_hidden
    from pass_{{ pass }}_months_ordered

),
{% endfor %}

flags as (

    select
        owner_municipality_code,
        borrower_municipality_code,
        period_type,
        period_start,
        {% for group, _ in groups -%}
        max(case when cell_group = '{{ group }}' and is_hidden then 1 else 0 end) = 1
            as {{ group }}_suppressed,
        max(case when cell_group = '{{ group }}' and is_primary then 1 else 0 end) = 1
            as {{ group }}_primary,
        max(case when cell_group = '{{ group }}' and is_eligible then 1 else 0 end) = 1
            as {{ group }}_protectable,
        max(case when cell_group = '{{ group }}' and row_total_published then 1 else 0 end) = 1
            as {{ group }}_row_total_published,
        max(case when cell_group = '{{ group }}' and column_total_published then 1 else 0 end) = 1
            as {{ group }}_column_total_published{{ ',' if not loop.last }}
        {% endfor %}
    from pass_{{ passes }}
    group by owner_municipality_code, borrower_municipality_code, period_type, period_start

)

select
    grid.owner_municipality_code,
    grid.borrower_municipality_code,
    grid.period_type,
    grid.period_start,
    {% for group, _ in groups -%}
    coalesce(flags.{{ group }}_suppressed, false) as {{ group }}_suppressed,
    coalesce(flags.{{ group }}_primary, false) as {{ group }}_primary,
    -- for the tests: may be hidden for another cell's sake; its lines' totals are published
    coalesce(flags.{{ group }}_protectable, false) as {{ group }}_protectable,
    coalesce(flags.{{ group }}_row_total_published, false) as {{ group }}_row_total_published,
    coalesce(flags.{{ group }}_column_total_published, false)
        as {{ group }}_column_total_published,
    {% endfor -%}
    grid.loans,
    grid.borrowers,
    grid.holds_filled,
    grid.hold_patrons
from grid
left join flags
    on flags.owner_municipality_code = grid.owner_municipality_code
    and flags.borrower_municipality_code = grid.borrower_municipality_code
    and flags.period_type = grid.period_type
    and flags.period_start = grid.period_start
