{#- One row per hold placed before a retention cutoff: the home municipality and category
    of the patron who placed it, as fct_holds resolves them from the patron key. Once the
    retention rule has removed the key from the placing (ingestion/retention.py), fct_holds
    places the hold with these. Appended to by the retention step (var retention_cutoff)
    for holds not yet here, before the keys go; never rebuilt. -#}
{{ retained_patron_attributes('hold_placed', 'hold_id', 'placed_month', 'resident_municipality_code') }}
