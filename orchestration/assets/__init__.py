"""The assets: landing tables (ingestion), the dbt warehouse and its docs, the report site."""
