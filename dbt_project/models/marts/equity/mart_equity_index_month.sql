{#- One row per calendar month, metric and scope: how unequal the municipalities are, as
    the population-weighted coefficient of variation, Gini, max/min ratio and Theil T with
    its decomposition between and within the two cohorts (the original four against the
    five joiners), by the formulas of docs/metrics.md (macros/inequality.sql). Scope
    'members' takes the municipalities that are members at the end of the month (the last
    day with data for the current one); 'all_with_data' every municipality the lending
    core has data for. A falling index means service is becoming more equal. -#}
{{ equity_index_mart('month') }}
