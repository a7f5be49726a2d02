{{ config(severity='warn') }}
-- Lines of the loans between municipalities that no hiding in the pair marts can protect:
-- the other cells of the line are each alone in their other line, so the equity marts'
-- totals (loans to non-residents, shared loans) give a hidden pair away by themselves
-- (docs/metrics.md, "Between municipalities"). A warning: the fix belongs to the equity
-- marts' suppression, which does not look at pairs.
{{ exposed_pair_lines(fixable=false) }}
