"""The dbt project as Dagster sees it: `DbtProject`, its manifest, the translator.

`@dbt_assets` needs a parsed manifest when the definitions are imported. It is kept in
`<data_dir>/dbt/manifest/` (not in `dbt_project/target/`, which a person running dbt by hand
uses) and re-parsed on import whenever a file of the dbt project is newer than it, so the
asset graph follows the models as they change without a separate step. If a half-edited
project does not parse, the last good manifest is used (with a warning) so that ingestion
and the UI keep working; with no manifest at all, loading fails with dbt's message.

The translator connects the graph: every dbt source (`lending_core.*`, `reference.*`, and
`quarantine.*`, which ingestion writes beside its table) maps to the landing asset of the
same table, `landing/<table>`; models keep their names as keys and are grouped by their
dbt folder (`staging_lending_core`, `intermediate`, `marts_equity`, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from bibbla.config import Settings
from warehouse.build import DBT_PROJECT_DIR, run_dbt

LANDING_PREFIX = "landing"
# dbt sources whose tables are landing tables (the quarantine source reads the quarantine
# folder of the same table, which the same ingestion step writes).
LANDING_SOURCES = ("lending_core", "reference", "quarantine")
# Folders and files whose change makes the manifest stale.
_PROJECT_INPUTS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")

log = logging.getLogger(__name__)


def dbt_folder(settings: Settings) -> Path:
    """Where the orchestration keeps dbt's artefacts (manifest, run targets, docs)."""
    return settings.data_dir / "dbt"


def landing_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([LANDING_PREFIX, table])


def _newest_input(project_dir: Path) -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        path = project_dir / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    for folder in _PROJECT_INPUTS:
        root = project_dir / folder
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    return manifest.stat().st_mtime < _newest_input(project.project_dir)


def _parse(project: DbtProject, settings: Settings) -> None:
    """`dbt parse` into the project's target folder (the manifest the graph is built from),
    in this process like every dbt command of the pipeline (warehouse.build.run_dbt)."""
    run_dbt(
        ["parse", "--quiet"],
        settings,
        log=lambda line: None,  # --quiet: dbt prints errors only, and they are in the error
        target_path=project.target_path,
        log_path=project.target_path,
    )


def load_dbt_project(settings: Settings) -> DbtProject:
    """The dbt project with an up-to-date manifest (parsed now if it is missing or stale)."""
    target = dbt_folder(settings) / "manifest"
    target.mkdir(parents=True, exist_ok=True)
    project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=target)
    if manifest_is_stale(project):
        had_manifest = project.manifest_path.exists()
        try:
            run_with_concurrent_update_guard(
                project.manifest_path, _parse, project=project, settings=settings
            )
        except Exception as error:
            if not had_manifest:
                raise
            log.warning(
                "dbt parse failed (%s); using the last good manifest at %s",
                error,
                project.manifest_path,
            )
    return project


def _group(fqn: list[str]) -> str:
    # fqn: [project, folder, subfolder, ..., model]; group by the folders below models/.
    folders = fqn[1:-1]
    if not folders:
        return "warehouse"
    if folders[0] == "staging" and len(folders) > 1:
        return f"staging_{folders[1]}"
    if folders[0] == "marts" and len(folders) > 1:
        return f"marts_{folders[1]}"
    return folders[0]


class BibblaDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the landing assets; models are grouped by their dbt folder."""

    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # lending_core.item and quarantine.item are one landing asset.
                enable_duplicate_source_asset_keys=True,
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] in LANDING_SOURCES
        ):
            return landing_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        return _group(list(dbt_resource_props.get("fqn", [])))


@dataclass(frozen=True)
class Model:
    """A dbt model as the checks need it: its asset key and where it is in the warehouse."""

    name: str
    key: dg.AssetKey
    schema: str
    alias: str
    materialized: str
    folder: tuple[str, ...]

    @property
    def relation(self) -> str:
        """The model's table in the warehouse attached under the name `warehouse`."""
        return f'warehouse."{self.schema}"."{self.alias}"'


def models(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> dict[str, Model]:
    """Every model of the manifest by name."""
    found: dict[str, Model] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        found[node["name"]] = Model(
            name=node["name"],
            key=translator.get_asset_key(node),
            schema=node["schema"],
            alias=node.get("alias") or node["name"],
            materialized=(node.get("config") or {}).get("materialized", ""),
            folder=tuple(node.get("fqn", [])[1:-1]),
        )
    return found
