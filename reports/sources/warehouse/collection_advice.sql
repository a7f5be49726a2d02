-- mart_collection_advice: the suggested moves of idle copies, with the municipalities'
-- names and page slugs; for each municipality its 50 best moves in and its 50 best out
-- (by advice_rank), which is all the page "Bestånd" shows. Hold counts come as the mart
-- publishes them (null under 5 patrons).
with advice as (

    select
        a.*,
        fm.municipality_name as from_municipality_name,
        tm.municipality_name as to_municipality_name,
        row_number() over (partition by a.to_municipality_code order by a.advice_rank)
            as rank_in,
        row_number() over (partition by a.from_municipality_code order by a.advice_rank)
            as rank_out
    from main.mart_collection_advice as a
    inner join main.dim_municipality as fm on fm.municipality_code = a.from_municipality_code
    inner join main.dim_municipality as tm on tm.municipality_code = a.to_municipality_code

)

, published as (
    select
        advice_rank,
        advice_as_of,
        title_id,
        title,
        media_type,
        from_branch_code,
        from_branch_name,
        from_municipality_code,
        from_municipality_name,
        lower(strip_accents(from_municipality_name)) as from_slug,
        to_branch_code,
        to_branch_name,
        to_municipality_code,
        to_municipality_name,
        lower(strip_accents(to_municipality_name)) as to_slug,
        copies,
        idle_copies_at_from,
        holds_suppressed,
        holds_by_van,
        wait_days_by_van_mean,
        expected_wait_days_saved,
        expected_transports_saved,
        wait_days_saved_per_van_slot,
        rank_in,
        rank_out,
        data_source
    from advice
    where rank_in <= 50 or rank_out <= 50

)

-- Evidence cannot build a source without rows: with no advice at all (a short period),
-- one row of nulls, which the pages' queries leave out (they select by slug or rank).
select published.*
from (select 1 as one) as always
left join published on true
