{{ config(tags=['retention']) }}
-- The retention cutoff never falls inside a calendar year that has not ended (the year
-- of the newest event): that year's distinct-people counts are not final yet, so they
-- could not be frozen, and once its first months had lost their keys they could not be
-- counted either. ingestion/retention.py moves such a cutoff back to 1 January.
{%- set cutoff = retention_cutoff() %}
select provenance.last_event_date
from {{ ref('int_data_provenance') }} as provenance
{% if cutoff %}
where {{ year_start(cutoff) }} = {{ year_start('provenance.last_event_date') }}
  and {{ cutoff }} > {{ year_start(cutoff) }}
{% else %}
where 1 = 0
{% endif %}
