"""dbt run inside the calling process (warehouse/dbt_invocation.py), on a throwaway dbt project
of one macro: each command sees its own environment and working folder and nothing of the
one before, the caller's are as they were afterwards, a failure is reported with dbt's
own message, and the DuckDB file dbt wrote is closed again."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from warehouse.dbt_invocation import invoke_dbt

PROBE = "BIBBLA_PROBE"

PROJECT = """\
name: probe
version: "1.0.0"
config-version: 2
profile: probe
"""
PROFILES = """\
probe:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: probe.duckdb
      threads: 1
"""
MACROS = """\
{% macro probe() %}
    {% do log("probe=" ~ env_var('BIBBLA_PROBE', 'unset'), info=True) %}
    {% do run_query("create or replace table probe as select 1 as x") %}
{% endmacro %}

{% macro broken() %}
    {{ exceptions.raise_compiler_error("broken on purpose") }}
{% endmacro %}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "macros").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(PROJECT)
    (folder / "profiles.yml").write_text(PROFILES)
    (folder / "macros" / "probe.sql").write_text(MACROS)
    return folder


def _run(project: Path, macro: str, cwd: Path, **variables: str):
    lines: list[str] = []
    env = {key: value for key, value in os.environ.items() if key != PROBE}
    env.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **variables})
    outcome = invoke_dbt(
        [
            "run-operation",
            macro,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(cwd / "target"),
            "--log-path",
            str(cwd / "logs"),
        ],
        env=env,
        cwd=cwd,
        log=lines.append,
    )
    return outcome, lines


def test_each_command_has_its_own_environment_and_folder(project: Path, tmp_path: Path) -> None:
    environment, folder = dict(os.environ), os.getcwd()
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    outcome, lines = _run(project, "probe", first, **{PROBE: "one"})
    assert outcome.success, outcome.tail
    assert any(line.endswith("probe=one") for line in lines), lines
    outcome, lines = _run(project, "probe", second)
    assert outcome.success, outcome.tail
    assert any(line.endswith("probe=unset") for line in lines), lines

    # the caller's environment and folder as they were; dbt's log in its log folder
    assert dict(os.environ) == environment and os.getcwd() == folder
    assert (first / "logs" / "dbt.log").is_file()
    # each command wrote the DuckDB file of its own folder, and closed it again: this
    # process can open it with another configuration
    for written in (first, second):
        with duckdb.connect(str(written / "probe.duckdb"), read_only=True) as connection:
            assert connection.execute("select x from probe").fetchall() == [(1,)]


def test_a_failing_command_says_why(project: Path, tmp_path: Path) -> None:
    outcome, lines = _run(project, "broken", tmp_path)
    assert not outcome.success
    assert any("broken on purpose" in line for line in lines), lines
    assert "broken on purpose" in outcome.tail
    assert any("broken on purpose" in error for error in outcome.errors)
