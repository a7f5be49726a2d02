{#- One row per suggested move: a title, the branch whose idle copies should go (from) and
    the branch whose holds the van has been filling from elsewhere (to), with the number of
    copies and what the last 12 months' demand says the move would save; ranked by wait
    days saved per van slot. The rule, step by step (docs/metrics.md, "Collection
    balancing advice"):
    1. sources: idle copies of the title (int_collection_idle_copies);
    2. destinations: pickup branches with at least var advice_min_holds holds on the title
       brought by the van in the demand window (int_collection_hold_demand) and no idle
       copy of it themselves; each
       needs ceil(holds / H) copies, H = var advice_holds_per_copy (the holds one copy can
       serve in a year);
    3. only branches of municipalities that are members on the advice date take part
       (a copy may only be moved within the shared system);
    4. per title, destinations in order of wait days saved per copy (then branch code) take
       copies from the sources in order of idle copies (most first, then branch code):
       the overlap of the two cumulative ranges gives the copies of each pair;
    5. a destination with c copies serves min(holds, H × c) of its holds locally, shared
       among its pairs by copies; each is taken to be ready at once (the copy stands on
       the shelf there), so it saves its mean wait for the van in days and one van transport;
       each moved copy takes one van slot once.
    Hold counts rest on people: holds_by_van and hold_patrons are null when the holds
    rest on fewer than 5 patrons (holds_suppressed). -#}
with idle as (

    select * from {{ ref('int_collection_idle_copies') }}

),

demand as (

    select * from {{ ref('int_collection_hold_demand') }}

),

branches as (

    select * from {{ ref('int_branches') }}

),

memberships as (

    select * from {{ ref('stg_lending_core__membership') }}
    where is_latest_snapshot

),

titles as (

    select * from {{ ref('dim_title') }}

),

provenance as (

    select * from {{ ref('int_data_provenance') }}

),

as_of as (

    select
        {{ advice_as_of('provenance') }} as advice_as_of,
        provenance.data_source
    from provenance

),

members as (

    select distinct memberships.municipality_code
    from memberships
    cross join as_of
    where memberships.joined_on <= as_of.advice_as_of
      and (memberships.left_on is null or memberships.left_on > as_of.advice_as_of)

),

sources as (

    select
        idle.title_id,
        idle.branch_code,
        idle.idle_copies,
        sum(idle.idle_copies) over (
            partition by idle.title_id
            order by idle.idle_copies desc, idle.branch_code
            rows between unbounded preceding and current row
        ) as range_end
    from idle
    inner join members on members.municipality_code = idle.municipality_code

),

needs as (

    select
        demand.*,
        cast(ceil(cast(demand.holds_by_van as double) / {{ var('advice_holds_per_copy') }}) as bigint)
            as copies_needed,
        -- wait days one copy saves (holds it serves × days saved a hold): the order of need
        least(cast(demand.holds_by_van as double), {{ var('advice_holds_per_copy') }})
        * demand.wait_days_by_van_mean as saving_per_copy
    from demand
    inner join branches on branches.branch_code = demand.pickup_branch_code and branches.lends
    inner join members on members.municipality_code = branches.municipality_code
    -- a branch with an idle copy of the title has one to serve its holds already
    left join idle
        on idle.title_id = demand.title_id and idle.branch_code = demand.pickup_branch_code
    where idle.title_id is null
      and demand.title_id in (select title_id from idle)
      -- fewer holds than this in a year are chance, not a pattern to move copies for
      and demand.holds_by_van >= {{ var('advice_min_holds') }}

),

destinations as (

    select
        needs.*,
        sum(needs.copies_needed) over (
            partition by needs.title_id
            order by needs.saving_per_copy desc, needs.pickup_branch_code
            rows between unbounded preceding and current row
        ) as range_end
    from needs

),

pairs as (

    select
        sources.title_id,
        sources.branch_code as from_branch_code,
        sources.idle_copies,
        destinations.pickup_branch_code as to_branch_code,
        destinations.holds_by_van,
        destinations.hold_patrons,
        destinations.wait_days_by_van_mean,
        least(sources.range_end, destinations.range_end)
        - greatest(sources.range_end - sources.idle_copies,
                   destinations.range_end - destinations.copies_needed) as copies
    from sources
    inner join destinations on destinations.title_id = sources.title_id
    where least(sources.range_end, destinations.range_end)
        > greatest(sources.range_end - sources.idle_copies,
                   destinations.range_end - destinations.copies_needed)

),

served as (

    select
        pairs.*,
        sum(pairs.copies) over (partition by pairs.title_id, pairs.to_branch_code)
            as copies_to_destination
    from pairs

),

estimated as (

    select
        served.*,
        least(
            cast(served.holds_by_van as double),
            cast({{ var('advice_holds_per_copy') }} * served.copies_to_destination as double)
        ) * served.copies / served.copies_to_destination as holds_served
    from served

),

advice as (

    select
        estimated.*,
        estimated.holds_served * estimated.wait_days_by_van_mean as expected_wait_days_saved,
        estimated.holds_served - estimated.copies as expected_transports_saved
    from estimated

)

select
    cast(row_number() over (
        order by
            advice.expected_wait_days_saved / advice.copies desc,
            advice.expected_wait_days_saved desc,
            advice.title_id,
            advice.from_branch_code,
            advice.to_branch_code
    ) as bigint) as advice_rank,
    as_of.advice_as_of,
    advice.title_id,
    titles.title,
    titles.media_type,
    advice.from_branch_code,
    from_branch.branch_name as from_branch_name,
    from_branch.municipality_code as from_municipality_code,
    advice.to_branch_code,
    to_branch.branch_name as to_branch_name,
    to_branch.municipality_code as to_municipality_code,
    cast(advice.copies as bigint) as copies,
    cast(advice.idle_copies as bigint) as idle_copies_at_from,
    -- the holds rest on fewer than 5 known patrons (also when their keys are gone)
    {%- set few = "advice.hold_patrons < " ~ var('suppression_threshold') %}
    {{ few }} as holds_suppressed,
    cast({{ unless_suppressed('advice.holds_by_van', few) }} as bigint) as holds_by_van,
    cast({{ unless_suppressed('advice.hold_patrons', few) }} as bigint) as hold_patrons,
    cast(advice.wait_days_by_van_mean as double) as wait_days_by_van_mean,
    cast(advice.expected_wait_days_saved as double) as expected_wait_days_saved,
    cast(advice.expected_transports_saved as double) as expected_transports_saved,
    cast(advice.expected_wait_days_saved / advice.copies as double)
        as wait_days_saved_per_van_slot,
    as_of.data_source
from advice
cross join as_of
inner join branches as from_branch on from_branch.branch_code = advice.from_branch_code
inner join branches as to_branch on to_branch.branch_code = advice.to_branch_code
left join titles on titles.title_id = advice.title_id
where advice.expected_wait_days_saved > 0 or advice.expected_transports_saved > 0
