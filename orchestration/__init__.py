"""The pipeline in Dagster: one Definitions (definitions.py) wiring ingestion, dbt, Great
Expectations checks and the Evidence site together. See orchestration/README.md."""
