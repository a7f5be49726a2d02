-- Test-only source query (tests/reports/site_overlay): the proof page's data.
select municipality, loans, share from proof_loans
