{#- One row per title of the shared catalogue (bibliographic data, nothing personal),
    with its collection's floating rule. -#}
with titles as (

    select * from {{ ref('stg_lending_core__title') }}
    where is_latest_snapshot

),

collections as (

    select * from {{ ref('stg_lending_core__collection') }}
    where is_latest_snapshot

)

select
    titles.title_id,
    titles.isbn,
    titles.title,
    titles.author,
    titles.publication_year,
    titles.media_type,
    titles.language,
    titles.audience,
    titles.collection_code,
    collections.collection_name,
    collections.collection_floats,
    titles.added_at
from titles
left join collections on collections.collection_code = titles.collection_code
