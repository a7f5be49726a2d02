{#- The lines of the loans between municipalities that no hiding in the pair marts can
    protect (docs/metrics.md, "Between municipalities"): a line with a published total
    exposes a hidden pair, and every other cell of it is alone in its other line, so the
    equity marts' totals (loans to non-residents, shared loans) give the pair away by
    themselves. Closing them belongs to the equity marts' suppression, which does not look
    at pairs; kept here, one row per line, so that they are counted and can be looked at
    (a dbt test would fail the nightly run on a finding that run cannot act on). -#}
{{ exposed_pair_lines(fixable=false) }}
