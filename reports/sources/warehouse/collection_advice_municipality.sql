-- The collection advice per member municipality: all its moves in and out (not only the
-- best 50 the page lists), summed from mart_collection_advice.
with moves as (

    select
        to_municipality_code as municipality_code,
        1 as moves_in, copies as copies_in, expected_wait_days_saved as days_in,
        expected_transports_saved as transports_in,
        0 as moves_out, 0 as copies_out
    from main.mart_collection_advice

    union all

    select
        from_municipality_code,
        0, 0, 0, 0,
        1, copies
    from main.mart_collection_advice

)

select
    m.municipality_code,
    m.municipality_name,
    lower(strip_accents(m.municipality_name)) as slug,
    cast(coalesce(sum(moves.moves_in), 0) as bigint) as moves_in,
    cast(coalesce(sum(moves.copies_in), 0) as bigint) as copies_in,
    coalesce(sum(moves.days_in), 0) as expected_wait_days_saved_in,
    coalesce(sum(moves.transports_in), 0) as expected_transports_saved_in,
    cast(coalesce(sum(moves.moves_out), 0) as bigint) as moves_out,
    cast(coalesce(sum(moves.copies_out), 0) as bigint) as copies_out
from main.dim_municipality as m
left join moves on moves.municipality_code = m.municipality_code
where m.has_lending_data
group by m.municipality_code, m.municipality_name
