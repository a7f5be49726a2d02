-- The complementary suppression of the loans between municipalities
-- (int_municipality_pair_disclosure, docs/metrics.md "Between municipalities") reached
-- its rule: no line with a published total exposes a hidden cell while it still had a
-- cell the rule could hide (var pair_suppression_passes was enough).
{{ exposed_pair_lines(fixable=true) }}
