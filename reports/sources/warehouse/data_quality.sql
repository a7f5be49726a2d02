-- mart_data_quality: freshness, rows, quarantined rows and removed duplicates per landed table.
select
    table_name,
    table_kind,
    newest_date,
    newest_year,
    days_behind_events,
    current_rows,
    snapshot_count,
    quarantined_rows,
    duplicate_rows_removed,
    data_source
from main.mart_data_quality
