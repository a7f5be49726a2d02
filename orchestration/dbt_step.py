"""A dbt command of a pipeline step, run in the step's own process, with dagster-dbt's events.

dagster-dbt's `DbtCliResource` starts a dbt process per command and reads its JSON log; here
the command runs in the step's process instead (`warehouse.build.run_dbt`, which says why),
and its node results (the same structured events dbt writes as JSON lines) are turned into
Dagster events by dagster-dbt's own code: an `Output` per model and seed built, an
`AssetCheckResult` per dbt test with pass or fail, as `DbtCliInvocation.stream()` yields
them. The selection a run asks for (a subset of the models, or of their checks) becomes dbt
arguments the way `DbtCliResource.cli` makes them.

Two functions of dagster-dbt used here are not in its public API
(`get_updated_cli_invocation_params_for_context`, `DbtCoreCliEventMessage`): they are what
`DbtCliResource.cli` itself calls, the version is pinned (pyproject.toml), and
tests/orchestration checks that every model is materialised and every test becomes its check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from bibbla.config import Settings
from orchestration.dbt_project import BibblaDbtTranslator
from warehouse.build import DBT_PROJECT_DIR, WarehouseBuildError, run_dbt

# Called with each Dagster event as its dbt node finishes (from dbt's worker threads).
OnEvent = Callable[[Any], None]


@dataclass
class DbtStepRun:
    """What a dbt command of a step produced: its Dagster events in the order dbt finished
    the nodes, the manifest they refer to, and the error if dbt failed."""

    events: list[Any] = field(default_factory=list)
    manifest: Mapping[str, Any] = field(default_factory=dict)
    error: WarehouseBuildError | None = None


def run_dbt_assets(
    context: dg.AssetExecutionContext,
    settings: Settings,
    arguments: Sequence[str],
    *,
    target_path: Path,
    extra_env: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
    on_event: OnEvent | None = None,
) -> DbtStepRun:
    """Run `dbt <arguments>` for the assets and checks `context` selects (a `@dbt_assets`
    step); dbt's lines go to `log` (stdout: the run's compute log), its artefacts and dbt.log
    to `target_path`. A failing dbt command is returned as `error`, after its events."""
    cleaned, selects, excludes = extract_runtime_selection_from_args(arguments)
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest={},  # these two are taken from the @dbt_assets definition
        dagster_dbt_translator=BibblaDbtTranslator(),
        runtime_selects=selects,
        runtime_excludes=excludes,
    )
    env = dict(extra_env or {})
    if params.indirect_selection:
        env[DBT_INDIRECT_SELECTION_ENV] = params.indirect_selection
    project = params.dbt_project
    run = DbtStepRun(manifest=params.manifest)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def node_finished(raw_event: dict[str, Any]) -> None:
        # runs inside dbt: an exception here would fail the dbt node, so it is kept for later
        try:
            message = DbtCoreCliEventMessage(raw_event=raw_event, event_history_metadata={})
            events = list(
                message.to_default_asset_events(
                    manifest=params.manifest,
                    dagster_dbt_translator=params.dagster_dbt_translator,
                    context=context,
                    target_path=target_path,
                    project=project,
                )
            )
            with lock:
                run.events.extend(events)
                for event in events:
                    if on_event is not None:
                        on_event(event)
        except Exception as error:  # re-raised once dbt has finished
            failures.append(error)

    try:
        run_dbt(
            [*cleaned, *params.selection_args],
            settings,
            log=log,
            target_path=target_path,
            log_path=target_path,
            extra_env=env,
            on_event=node_finished,
            # a copy with a selector file when the selection is large (dagster-dbt's way)
            project_dir=Path(project.project_dir) if project else DBT_PROJECT_DIR,
        )
    except WarehouseBuildError as error:
        run.error = error
    if failures:
        raise failures[0]
    return run
