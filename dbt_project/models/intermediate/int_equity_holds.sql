{#- One row per municipality and reporting period with the hold counts behind
    hold_fill_rate and the wait-time percentiles of docs/metrics.md (int_equity_holds_keyed),
    where the count of distinct patrons of a period frozen by the retention rule is the
    frozen one (retained_equity_hold_people): their patron keys are gone, or about to go.
    Every other figure is computed from fct_holds, which keeps each hold's municipality
    after its key has gone. -#}
{%- set columns = [
    ('holds_placed', false),
    ('hold_patrons', true),
    ('holds_cancelled_by_patron', false),
    ('holds_ready', false),
    ('holds_open', false),
    ('hold_wait_days_median', false),
    ('hold_wait_days_p90', false),
] -%}
{{ frozen_people_overlay('int_equity_holds_keyed', 'retained_equity_hold_people', columns) }}
