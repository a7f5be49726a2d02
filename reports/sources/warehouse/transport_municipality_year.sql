-- Who gains from the transports, per year and member municipality: items that came from
-- another municipality's branches to its branches (and of those, items that served a hold
-- the patron then collected), items it sent to the others, per 1 000 inhabitants (s ×
-- population for simulated data, as in mart_equity_municipality_year). The allocated cost
-- of what it received spreads the budget evenly over items, as the mart does.
with transports as (

    select * from main.mart_transport_month
    where from_municipality_code <> to_municipality_code

),

received as (

    select
        year,
        to_municipality_code as municipality_code,
        sum(items_sent) as items_received_from_others,
        sum(collected_hold_transports) as collected_holds_from_others,
        sum(allocated_cost_sek) as cost_of_received_sek
    from transports
    group by year, to_municipality_code

),

sent as (

    select
        year,
        from_municipality_code as municipality_code,
        sum(items_sent) as items_sent_to_others
    from transports
    group by year, from_municipality_code

),

population as (

    select municipality_code, municipality_name, year, population_denominator
    from main.mart_equity_municipality_year

)

select
    p.year,
    p.municipality_code,
    p.municipality_name,
    lower(strip_accents(p.municipality_name)) as slug,
    coalesce(r.items_received_from_others, 0) as items_received_from_others,
    coalesce(r.collected_holds_from_others, 0) as collected_holds_from_others,
    coalesce(s.items_sent_to_others, 0) as items_sent_to_others,
    coalesce(r.items_received_from_others, 0) - coalesce(s.items_sent_to_others, 0) as net_items_received,
    1000 * coalesce(r.collected_holds_from_others, 0) / nullif(p.population_denominator, 0) as collected_holds_from_others_per_1000,
    1000 * coalesce(r.items_received_from_others, 0) / nullif(p.population_denominator, 0) as items_received_from_others_per_1000,
    coalesce(r.cost_of_received_sek, 0) as cost_of_received_sek
from population as p
left join received as r on r.year = p.year and r.municipality_code = p.municipality_code
left join sent as s on s.year = p.year and s.municipality_code = p.municipality_code
