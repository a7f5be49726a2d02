-- mart_headline_kpis: the consortium's headline figures, this year so far against the same
-- months of last year, computed in the warehouse from the unsuppressed totals (a figure
-- whose hidden remainder rests on 1-4 people is withheld there). The Swedish labels and
-- number formats for the page are added here.
select
    k.sort_order,
    k.metric,
    case k.metric
        when 'loans_per_capita' then 'Lån per invånare'
        when 'shared_loan_share' then 'Andel lån av andra kommuners medier'
        when 'hold_fill_rate' then 'Andel uppfyllda reservationer'
        when 'accessible_stock_per_capita' then 'Tillgängligt bestånd per invånare (vid periodens slut)'
        when 'items_sent' then 'Medier skickade med länstransporten'
    end as label,
    case k.metric
        when 'loans_per_capita' then '#,##0.00'
        when 'accessible_stock_per_capita' then '#,##0.0'
        when 'items_sent' then '#,##0'
        else '0.0%'
    end as fmt,
    k.this_value,
    k.last_value,
    k.change,
    k.this_is_withheld,
    k.last_is_withheld,
    k.this_year,
    k.last_year,
    k.first_month,
    k.last_month,
    k.months
from main.mart_headline_kpis as k
