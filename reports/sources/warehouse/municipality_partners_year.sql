-- Who lends to whom, per year: mart_loans_between_municipalities_year as published (cells
-- resting on 1-4 people, and the cells that would give one back, are already null there),
-- seen from both ends of each pair. One row per page municipality (slug), year, direction
-- and partner municipality: 'lends' rows are the page municipality's items lent to the
-- partner's residents, 'borrows' rows its residents' loans of the partner's items.
select
    lower(strip_accents(owner_municipality_name)) as slug,
    year,
    is_complete_period,
    'lends' as direction,
    borrower_municipality_name as partner_name,
    loans,
    borrowers,
    holds_filled,
    hold_patrons,
    loans_suppressed,
    holds_suppressed
from main.mart_loans_between_municipalities_year

union all

select
    lower(strip_accents(borrower_municipality_name)) as slug,
    year,
    is_complete_period,
    'borrows' as direction,
    owner_municipality_name as partner_name,
    loans,
    borrowers,
    holds_filled,
    hold_patrons,
    loans_suppressed,
    holds_suppressed
from main.mart_loans_between_municipalities_year
