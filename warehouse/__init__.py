"""The warehouse step: the dbt-duckdb project in `dbt_project/` run from the landing to the
marts (`warehouse.build`, dbt in this process through `warehouse.dbt_invocation`), the
warehouse side of the retention rule (`warehouse.retention`) and `bibbla warehouse`
(`warehouse.cli`)."""
