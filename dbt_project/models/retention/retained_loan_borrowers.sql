{#- One row per loan checked out before a retention cutoff: the borrower's home
    municipality and category as fct_loans resolves them from the patron key. Once the
    retention rule has removed the key from the checkout (ingestion/retention.py),
    fct_loans places the loan with these. Appended to by the retention step (var
    retention_cutoff) for loans not yet here, before the keys go; never rebuilt. -#}
{{ retained_patron_attributes('checkout', 'loan_id', 'checkout_month', 'borrower_municipality_code') }}
