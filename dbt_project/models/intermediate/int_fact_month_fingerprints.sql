{{ config(tags=['period_aggregate']) }}
{#- One row per incremental fact (loans, holds, transports) and fact month that this build
    looks at: a fingerprint of the columns the period aggregates read from its rows (a sum
    of row hashes, with the row count), and the calendar years those rows count in.

    On a nightly build only the months the facts rebuilt are here (every month holding a
    row with an event newer than the watermark, macros/period_incremental.sql). A fact
    month is rebuilt whole, so it is often rebuilt with nothing the aggregates read
    changed: a loan of last November returned today changes its return date, not the
    month's counts. int_rebuilt_years compares each fingerprint with the one kept from the
    last build that rebuilt every aggregate (build_state.fact_month_fingerprint, updated
    by the on-run-end hook) and rebuilds a year only when a month counting in it changed,
    so an old loan's late return does not cost a whole year. On a first or full build
    every month is here (`covers_every_month`) and the kept fingerprints are replaced. -#}
{%- set watermark = last_period_watermark() -%}
{%- set every_month = (not is_incremental_build()) or watermark is none or rebuild_all_periods_requested() -%}
{%- set facts = [
    {
        'fact': 'loans',
        'relation': ref('fct_loans'),
        'month': 'checkout_month',
        'first_date': 'checkout_date',
        'last_date': 'coalesce(last_renewed_date, checkout_date)',
        'columns': [
            'loan_id', 'checkout_date', 'patron_key', 'borrower_municipality_code',
            'owner_municipality_code', 'lending_municipality_code', 'patron_category',
            'is_shared_loan', 'borrower_is_member',
        ],
    },
    {
        'fact': 'holds',
        'relation': ref('fct_holds'),
        'month': 'placed_month',
        'first_date': 'placed_date',
        'last_date': 'placed_date',
        'columns': [
            'hold_id', 'placed_date', 'resident_municipality_code', 'patron_key',
            'is_cancelled_by_patron_before_ready', 'became_ready', 'hold_status', 'wait_days',
            'trapped_item_owner_municipality_code',
        ],
    },
    {
        'fact': 'transports',
        'relation': ref('fct_transports'),
        'month': 'requested_month',
        'first_date': 'dispatched_date',
        'last_date': 'dispatched_date',
        'columns': [
            'transport_id', 'dispatched_date', 'from_branch_code', 'to_branch_code',
            'from_municipality_code', 'to_municipality_code', 'transport_route',
            'transport_status', 'transport_reason', 'served_collected_hold', 'days_in_transit',
        ],
    },
] -%}
-- depends_on: {{ ref('int_data_provenance') }}
{% for fact in facts %}
{%- if not loop.first %}

union all

{% endif -%}
select
    '{{ fact.fact }}' as fact,
    {{ fact.month }} as month_start,
    cast(count(*) as bigint) as fact_rows,
    {{ fact_row_fingerprint(fact.columns) }} as fingerprint,
    min({{ year_start(fact.first_date) }}) as first_year_start,
    max({{ year_start(fact.last_date) }}) as last_year_start,
    {{ 'true' if every_month else 'false' }} as covers_every_month
from {{ fact.relation }}
{%- if not every_month %}
where {{ fact.month }} in (
    select {{ fact.month }} from {{ fact.relation }}
    where last_event_id > {{ watermark.through_event_id }}
)
{%- endif %}
group by {{ fact.month }}
{% endfor %}
