-- Branches of the member municipalities (newest snapshot). The sorting hub lends nothing.
select
    b.branch_code,
    b.branch_name,
    b.municipality_code,
    lower(strip_accents(m.municipality_name)) as slug,
    b.branch_kind,
    b.lends,
    b.staffed_hours_per_week,
    b.staffless_hours_per_week,
    b.open_hours_per_week
from main.dim_branch as b
inner join main.dim_municipality as m on m.municipality_code = b.municipality_code
