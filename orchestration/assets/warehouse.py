"""The warehouse: the dbt project as assets (dagster-dbt), and its generated docs.

`dbt build` runs models and their tests in dependency order; each dbt test is an asset check
on its model, and a failing test stops dbt from building what depends on that model. The
landing assets are upstream of the dbt sources (orchestration/dbt_project.py), so a failing
blocking check on the landing keeps the whole build from running on bad data.

dbt runs in the step's process (orchestration/dbt_step.py). Row counts and previews are read
after it has finished: while dbt builds, the warehouse file is open for writing, and DuckDB
lets nobody else open it, not another process and not another connection of this one with
another configuration; dbt's is closed when the command ends (warehouse/dbt_invocation.py).
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtProject, dbt_assets

from bibbla.config import Settings
from orchestration.dbt_project import BibblaDbtTranslator, Model, dbt_folder
from orchestration.dbt_step import run_dbt_assets
from orchestration.metadata import markdown_table
from warehouse.build import NoEventsLanded, WarehouseBuildError, plan_build, run_dbt

DOCS_KEY = dg.AssetKey(["dbt_docs"])
# Models shown with a few rows in the UI (what the reports read, and the dimensions).
_PREVIEW_PREFIXES = ("mart_", "dim_")


def _enrich(
    events: list[Any], nodes: Mapping[str, Mapping[str, Any]], warehouse: Path
) -> list[Any]:
    """Add row counts (tables) and previews (marts) to dbt's materialisations."""
    wanted = {}
    for event in events:
        if isinstance(event, dg.Output):
            unique_id = event.metadata.get("unique_id")
            node = nodes.get(getattr(unique_id, "value", unique_id) or "")
            if node and (node.get("config") or {}).get("materialized") in ("table", "incremental"):
                wanted[event.output_name] = node
    if not wanted or not warehouse.exists():
        return events
    extra: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for output_name, node in wanted.items():
            relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
            try:
                rows = connection.sql(f"select count(*) from {relation}").fetchone()[0]
                metadata: dict[str, Any] = {"dagster/row_count": int(rows)}
                if node["name"].startswith(_PREVIEW_PREFIXES):
                    head = connection.sql(f"select * from {relation} limit 5")
                    metadata["preview"] = dg.MetadataValue.md(
                        markdown_table(head.columns, head.fetchall())
                    )
                extra[output_name] = metadata
            except duckdb.Error:
                continue
    return [
        event.with_metadata({**event.metadata, **extra[event.output_name]})
        if isinstance(event, dg.Output) and event.output_name in extra
        else event
        for event in events
    ]


def _describe(event: Any, built: int, selected: int) -> str | None:
    """A live progress line while dbt runs (the events are yielded when it has finished)."""
    if isinstance(event, dg.Output) and (built % 10 == 0 or built == selected):
        return f"dbt: {built} of {selected} models built"
    if isinstance(event, dg.AssetCheckResult) and not event.passed:
        return f"dbt: test {event.check_name} on {event.asset_key.to_user_string()} FAILED"
    return None


def build_warehouse_assets(project: DbtProject) -> dg.AssetsDefinition:
    """The dbt models of the project's manifest as one multi-asset running `dbt build`."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=BibblaDbtTranslator(),
        name="warehouse",
    )
    def warehouse(
        context: AssetExecutionContext,
        settings: dg.ResourceParam[Settings],
    ) -> Iterator[Any]:
        """`dbt build`: the warehouse's models and their tests, in dependency order, as
        `bibbla warehouse build` plans it (warehouse.build.plan_build)."""
        target = dbt_folder(settings) / "target"
        try:
            plan = plan_build(settings)
        except NoEventsLanded as error:
            raise dg.Failure(description=str(error), allow_retries=False) from error
        for note in plan.notes:
            context.log.info(note)
        context.log.info(f"dbt {' '.join(plan.arguments)} into {plan.warehouse}")
        selected = len(context.selected_asset_keys)
        built = 0

        def progress(event: Any) -> None:
            nonlocal built
            built += isinstance(event, dg.Output)
            line = _describe(event, built, selected)
            if line:
                context.log.info(line)

        run = run_dbt_assets(
            context,
            settings,
            plan.arguments,
            target_path=target,
            extra_env=plan.environment,
            on_event=progress,
        )
        yield from _enrich(run.events, run.manifest.get("nodes", {}), settings.warehouse_path)
        if run.error is not None:
            raise dg.Failure(
                description=f"dbt build failed: {run.error}",
                metadata={"dbt_log": dg.MetadataValue.path(str(target / "dbt.log"))},
                allow_retries=False,
            )

    return warehouse


def build_docs_asset(models: Mapping[str, Model]) -> dg.AssetsDefinition:
    """`dbt docs generate --static`: one HTML file describing every model and column."""

    @dg.asset(
        key=DOCS_KEY,
        deps=[model.key for model in models.values()],
        group_name="docs",
        kinds={"dbt", "html"},
        description="The dbt documentation site of the warehouse (models, columns, tests, "
        "lineage) as one static HTML file.",
    )
    def dbt_docs(
        context: AssetExecutionContext,
        settings: dg.ResourceParam[Settings],
    ) -> dg.MaterializeResult:
        target = dbt_folder(settings) / "docs"
        try:
            run_dbt(
                ["docs", "generate", "--static"],
                settings,
                log=print,  # the run's compute log, as dbt's own output of the build
                target_path=target,
                log_path=target,
            )
        except WarehouseBuildError as error:
            raise dg.Failure(
                description=f"dbt docs generate failed: {error}", allow_retries=False
            ) from error
        page = target / "static_index.html"
        context.log.info(f"dbt docs: {page}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(page)),
                "size_kb": round(page.stat().st_size / 1024, 1) if page.exists() else 0,
                "models_documented": len(models),
            }
        )

    return dbt_docs
