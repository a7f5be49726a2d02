-- mart_national_context_year: KB's yearly statistics for every municipality of the county,
-- the only place non-members appear (as context, never as a control group).
select
    municipality_code,
    municipality_name,
    year,
    is_member_at_year_end,
    membership_role,
    libraries,
    kb_loans,
    kb_stock,
    kb_active_borrowers,
    kb_visits,
    kb_population,
    kb_loans_per_capita,
    kb_stock_per_capita,
    kb_active_borrower_share,
    kb_visits_per_capita,
    is_example,
    data_source
from main.mart_national_context_year
