"""Great Expectations suites as Dagster asset checks, on the landing and on the marts."""
