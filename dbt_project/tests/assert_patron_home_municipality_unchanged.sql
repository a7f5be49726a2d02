{{ config(severity='warn') }}
-- The lending core has no change-of-residence use case, so a patron's home municipality
-- at registration (event) and now (snapshot) agree, and fct_loans may resolve the home
-- municipality at the loan date from either. A warning here means that assumption broke.
select patron_key, registered_home_municipality_code, home_municipality_code
from {{ ref('int_patrons') }}
where registered_home_municipality_code is not null
  and registered_home_municipality_code <> home_municipality_code
