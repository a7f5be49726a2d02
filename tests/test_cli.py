"""`bibbla`: every command is reachable, its listed help is its own, and `bibbla --help`
imports none of the packages (each command is imported only when it runs)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bibbla.cli import COMMANDS, app

PACKAGES = ("operational", "ingestion", "orchestration", "warehouse", "privacy", "dagster", "dbt")


def test_the_help_lists_every_command_without_importing_one() -> None:
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from typer.testing import CliRunner\n"
            "from bibbla.cli import app\n"
            "result = CliRunner().invoke(app, ['--help'])\n"
            "assert result.exit_code == 0, result.output\n"
            "print(result.output)\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({PACKAGES!r})))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.strip().splitlines()[-1] == "[]"
    for name in COMMANDS:
        assert f" {name} " in listed


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_with_the_help_it_is_listed_with(name: str) -> None:
    loaded = COMMANDS[name].load(name)
    assert " ".join((loaded.help or "").split()).startswith(COMMANDS[name].help)
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output


def test_ingest_has_the_retention_command_wired_in() -> None:
    result = CliRunner().invoke(app, ["ingest", "retention", "--help"])
    assert result.exit_code == 0 and "--dry-run" in result.output
