-- The sum over municipalities of residents' loans equals the consortium's loans by
-- resident patrons, per period (no loan lost or counted twice on the way to the marts).
with by_municipality as (
    select period_type, period_start, sum(loans) as loans
    from {{ ref('int_equity_municipality_period') }}
    group by period_type, period_start
),
consortium as (
    select 'month' as period_type, checkout_month as period_start, count(*) as loans
    from {{ ref('fct_loans') }}
    where borrower_municipality_code is not null
    group by checkout_month
    union all
    select 'year' as period_type, {{ year_start('checkout_date') }} as period_start, count(*)
    from {{ ref('fct_loans') }}
    where borrower_municipality_code is not null
    group by {{ year_start('checkout_date') }}
)
select
    consortium.period_type,
    consortium.period_start,
    consortium.loans as consortium_loans,
    by_municipality.loans as municipality_loans
from consortium
left join by_municipality
    on by_municipality.period_type = consortium.period_type
    and by_municipality.period_start = consortium.period_start
where by_municipality.loans is null or by_municipality.loans <> consortium.loans
