{#- One row per municipality with data in the lending core and reporting period (month
    and year): every per-municipality metric of docs/metrics.md, UNSUPPRESSED. The indices
    read it through int_equity_metric_values (published values, hidden ones marked), the
    headline figures as consortium totals (mart_headline_kpis); reports read the
    suppressed copies (mart_equity_municipality_month / _year) instead.
    Per-capita denominators are s × population when the data is simulated at scale s,
    except open_hours_per_1000: branch hours are the real branches' (not simulated), so
    they are set against the real population. -#}
with municipality_periods as (

    select * from {{ ref('int_municipality_periods') }}
    where has_lending_data

),

loans as (

    select * from {{ ref('int_equity_loans') }}

),

holds as (

    select * from {{ ref('int_equity_holds') }}

),

stock as (

    select * from {{ ref('int_equity_stock') }}

),

transports as (

    select * from {{ ref('int_equity_transports') }}

),

hours as (

    select * from {{ ref('int_equity_open_hours') }}

),

joined as (

    select
        municipality_periods.*,
        coalesce(loans.loans, 0) as loans,
        coalesce(loans.borrowers, 0) as borrowers,
        coalesce(loans.child_loans, 0) as child_loans,
        coalesce(loans.child_borrowers, 0) as child_borrowers,
        coalesce(loans.shared_loans, 0) as shared_loans,
        coalesce(loans.shared_loan_borrowers, 0) as shared_loan_borrowers,
        coalesce(loans.multi_municipality_borrowers, 0) as multi_municipality_borrowers,
        coalesce(loans.loans_of_own_items, 0) as loans_of_own_items,
        coalesce(loans.own_item_borrowers, 0) as own_item_borrowers,
        coalesce(loans.loans_to_non_residents, 0) as loans_to_non_residents,
        coalesce(loans.non_resident_borrowers, 0) as non_resident_borrowers,
        coalesce(loans.renewals, 0) as renewals,
        coalesce(loans.renewing_patrons, 0) as renewing_patrons,
        coalesce(holds.holds_placed, 0) as holds_placed,
        coalesce(holds.hold_patrons, 0) as hold_patrons,
        coalesce(holds.holds_cancelled_by_patron, 0) as holds_cancelled_by_patron,
        coalesce(holds.holds_ready, 0) as holds_ready,
        coalesce(holds.holds_open, 0) as holds_open,
        holds.hold_wait_days_median,
        holds.hold_wait_days_p90,
        coalesce(stock.stock, 0) as stock,
        coalesce(stock.accessible_stock, 0) as accessible_stock,
        coalesce(transports.transports, 0) as transports,
        hours.open_hours_per_week,
        hours.hours_snapshot_date,
        hours.hours_from_later_snapshot
    from municipality_periods
    left join loans
        on loans.municipality_code = municipality_periods.municipality_code
        and loans.period_type = municipality_periods.period_type
        and loans.period_start = municipality_periods.period_start
    left join holds
        on holds.municipality_code = municipality_periods.municipality_code
        and holds.period_type = municipality_periods.period_type
        and holds.period_start = municipality_periods.period_start
    left join stock
        on stock.municipality_code = municipality_periods.municipality_code
        and stock.period_type = municipality_periods.period_type
        and stock.period_start = municipality_periods.period_start
    left join transports
        on transports.municipality_code = municipality_periods.municipality_code
        and transports.period_type = municipality_periods.period_type
        and transports.period_start = municipality_periods.period_start
    left join hours
        on hours.municipality_code = municipality_periods.municipality_code
        and hours.period_type = municipality_periods.period_type
        and hours.period_start = municipality_periods.period_start

)

select
    joined.*,
    {{ safe_divide('loans', 'population_denominator') }} as loans_per_capita,
    {{ safe_divide('renewals', 'population_denominator') }} as renewals_per_capita,
    {{ safe_divide('borrowers', 'population_denominator') }} as active_borrower_share,
    {{ safe_divide('stock', 'population_denominator') }} as stock_per_capita,
    {{ safe_divide('accessible_stock', 'population_denominator') }}
        as accessible_stock_per_capita,
    {{ safe_divide('loans_of_own_items', 'stock') }} as collection_turnover,
    holds_placed - holds_cancelled_by_patron as hold_fill_denominator,
    {{ safe_divide('holds_ready', 'holds_placed - holds_cancelled_by_patron') }}
        as hold_fill_rate,
    {{ safe_divide('shared_loans', 'loans') }} as shared_loan_share,
    cast(loans_to_non_residents - shared_loans as bigint) as net_lending,
    {{ safe_divide('transports', 'population_denominator / 1000.0') }} as transports_per_1000,
    {{ safe_divide('open_hours_per_week', 'population / 1000.0') }} as open_hours_per_1000,
    {{ safe_divide('child_loans', 'children_population_denominator') }}
        as children_loans_per_child,
    {{ safe_divide('multi_municipality_borrowers', 'borrowers') }}
        as multi_municipality_borrower_share
from joined
