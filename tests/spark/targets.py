"""Running the one dbt project on another target than the default DuckDB one.

`bibbla warehouse build` always builds on DuckDB. The Spark target (dbt-spark, session
method: pyspark in local mode inside the dbt process) and the PostgreSQL target
(dbt-postgres) are selected with `--target` and configured by environment variables that
`dbt_project/profiles.yml` reads; this module sets them. `make test-spark` and the
benchmarks use it.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bibbla.config import Settings
from bibbla.processes import run_streaming
from warehouse.build import DBT_PROJECT_DIR, dbt_environment, dbt_executable

TARGETS = ("duckdb", "spark", "postgres")


class DbtTargetError(RuntimeError):
    pass


def spark_missing() -> str | None:
    """Why the Spark target cannot run here, or None when it can."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as error:
        return (
            f"the optional `spark` dependency group is not installed ({error}); "
            "`make test-spark` installs it"
        )
    if shutil.which("java") is None:
        return "no Java on PATH (pyspark needs Java 17: apt-get install openjdk-17-jre-headless)"
    return None


def spark_state(folder: Path) -> Path:
    """A folder for one Spark warehouse: its Parquet tables, Derby metastore and scratch
    space (profiles.yml puts them all under BIBBLA_SPARK_DIR). Two dbt runs must not use
    one at the same time (Derby admits one process)."""
    folder = folder.resolve()
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    return folder


def spark_warehouse_dir(state: Path) -> Path:
    return state / "warehouse"


def target_environment(
    settings: Settings,
    target: str,
    *,
    spark_dir: Path | None = None,
    postgres: dict[str, str] | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
) -> dict[str, str]:
    """The environment of a dbt run on `target` (duckdb, spark or postgres)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {TARGETS}")
    env = dbt_environment(settings, target_path=target_path, log_path=log_path)
    env["BIBBLA_DBT_TARGET"] = target
    if target == "spark":
        if spark_dir is None:
            raise ValueError("the Spark target needs a state folder (spark_dir)")
        env.update(
            {
                "BIBBLA_SPARK_DIR": str(spark_state(spark_dir)),
                # pyspark's JVM must listen on loopback only, and use this interpreter
                "SPARK_LOCAL_IP": "127.0.0.1",
                "PYSPARK_PYTHON": sys.executable,
                "PYSPARK_DRIVER_PYTHON": sys.executable,
            }
        )
    if target == "postgres":
        if postgres is None:
            raise ValueError("the PostgreSQL target needs connection settings (postgres)")
        env.update({f"BIBBLA_DBT_PG_{key.upper()}": value for key, value in postgres.items()})
        # PostgreSQL's planner takes the de-duplicated event view for a few hundred rows
        # (a filter on row_number() = 1) and joins the facts' CTEs by nested loops: at a
        # sixth of the yearly volume fct_loans ran for over ten minutes (stopped) instead of
        # under a second. Without nested loops it hashes. docs/scaling.md has the numbers.
        env["PGOPTIONS"] = "-c enable_nestloop=off"
    return env


def dbt_command(arguments: Sequence[str]) -> list[str]:
    return [
        dbt_executable(),
        *arguments,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]


def _for_message(line: str) -> str | None:
    # Spark's Java stack frames would crowd dbt's own lines out of the message
    if "\tat " in line:
        return None
    return line if len(line) <= 500 else line[:500] + " …"


def run_dbt_target(
    arguments: Sequence[str],
    env: dict[str, str],
    *,
    log: Callable[[str], None] = lambda _line: None,
) -> float:
    """Run one dbt command with `env` (from target_environment); returns its wall time in
    seconds, raises DbtTargetError with dbt's last lines when it fails."""
    started = time.perf_counter()
    code, last = run_streaming(
        dbt_command(arguments),
        DBT_PROJECT_DIR,
        env,
        log,
        tail_lines=60,
        for_message=_for_message,
    )
    seconds = time.perf_counter() - started
    if code != 0:
        raise DbtTargetError(
            f"dbt {' '.join(arguments)} on {env.get('BIBBLA_DBT_TARGET')} failed "
            f"(exit code {code}); last output:\n{last}"
        )
    return seconds
