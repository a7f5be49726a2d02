"""What a report rebuild may reuse (`bibbla.reports`, the module's documentation): the compiled
bundles depend on the pages, components, configuration, packages and Node but not on the data
or the source queries; the source queries' results depend on the warehouse's content, the
source folder, the packages and Node but not on the pages. A key that missed a dependency would
publish a stale site; one that took in too much would make every rebuild a full one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bibbla import reports
from tests.reports import harness


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A small Evidence project: one page, one component, one source query, a lock file."""
    monkeypatch.setattr(reports, "node_version", lambda: (20, 20, 2))
    project = tmp_path / "reports"
    for folder in ("pages", "components", "sources/warehouse", "node_modules"):
        (project / folder).mkdir(parents=True)
    (project / "package.json").write_text('{"name": "reports"}\n')
    (project / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    (project / "node_modules" / reports.INSTALL_STAMP).write_text(reports._lock_hash(project))
    (project / "evidence.config.yaml").write_text("plugins: {}\n")
    (project / "pages" / "index.md").write_text("# Översikt\n\n<Value data={loans} />\n")
    (project / "components" / "Caveat.svelte").write_text("<p>Simulerade data</p>\n")
    (project / "sources" / "warehouse" / "connection.yaml").write_text("name: warehouse\n")
    (project / "sources" / "warehouse" / "loans.sql").write_text("select 1 as loans\n")
    return project


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(b"the marts of one night")
    return path


def _keys(project: Path, warehouse: Path, **env: str) -> tuple[str, str]:
    environment = {**reports._environment(project, warehouse), **env}
    return (
        reports.bundle_key(project, environment),
        reports.sources_key(project, warehouse, environment),
    )


def test_the_keys_are_stable_for_an_unchanged_project(project, warehouse) -> None:
    assert _keys(project, warehouse) == _keys(project, warehouse)


def test_a_page_or_component_edit_recompiles_but_keeps_the_source_results(
    project, warehouse
) -> None:
    bundles, sources = _keys(project, warehouse)
    (project / "pages" / "index.md").write_text("# Översikt\n\nNy text.\n")
    after_page = _keys(project, warehouse)
    assert after_page[0] != bundles
    assert after_page[1] == sources
    (project / "components" / "Caveat.svelte").write_text("<p>Simulerat</p>\n")
    assert _keys(project, warehouse)[0] not in (bundles, after_page[0])
    (project / "pages" / "kommun").mkdir()
    (project / "pages" / "kommun" / "[kommun].md").write_text("# {params.kommun}\n")
    assert _keys(project, warehouse)[1] == sources


def test_a_source_query_edit_reruns_the_sources_but_keeps_the_bundles(project, warehouse) -> None:
    bundles, sources = _keys(project, warehouse)
    (project / "sources" / "warehouse" / "loans.sql").write_text("select 2 as loans\n")
    after = _keys(project, warehouse)
    assert after[0] == bundles
    assert after[1] != sources
    (project / "sources" / "warehouse" / "holds.sql").write_text("select 1 as holds\n")
    assert _keys(project, warehouse)[0] == bundles


def test_new_data_reruns_the_sources_only_and_the_path_alone_changes_nothing(
    project, warehouse, tmp_path
) -> None:
    bundles, sources = _keys(project, warehouse)
    warehouse.write_bytes(b"the marts of the next night")
    assert _keys(project, warehouse)[0] == bundles
    assert _keys(project, warehouse)[1] != sources
    # the same content elsewhere (a copy, another data folder): the same results
    elsewhere = tmp_path / "elsewhere" / "warehouse.duckdb"
    elsewhere.parent.mkdir()
    shutil.copyfile(warehouse, elsewhere)
    assert _keys(project, elsewhere) == _keys(project, warehouse)


def test_other_packages_or_node_invalidate_both(project, warehouse, monkeypatch) -> None:
    before = _keys(project, warehouse)
    (project / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"a": 1}}\n')
    after_lock = _keys(project, warehouse)
    assert after_lock[0] != before[0] and after_lock[1] != before[1]
    monkeypatch.setattr(reports, "node_version", lambda: (20, 21, 0))
    after_node = _keys(project, warehouse)
    assert after_node[0] != after_lock[0] and after_node[1] != after_lock[1]


def test_what_evidence_writes_is_not_part_of_the_bundle_key(project, warehouse) -> None:
    before = _keys(project, warehouse)
    for written in (".evidence/template/static/data/loans.parquet", "build/index.html"):
        (project / written).parent.mkdir(parents=True, exist_ok=True)
        (project / written).write_text("output of an earlier build\n")
    (project / "node_modules" / "left-over.js").write_text("1\n")
    assert _keys(project, warehouse) == before


def test_build_time_variables_count_for_the_bundles_and_the_source_options(
    project, warehouse
) -> None:
    bundles, sources = _keys(project, warehouse)
    assert _keys(project, warehouse, VITE_BASE="/rapporter")[0] != bundles
    assert _keys(project, warehouse, VITE_BASE="/rapporter")[1] == sources
    assert _keys(project, warehouse, EVIDENCE_SOURCE__warehouse__threads="1")[1] != sources
    # a variable nothing reads at build time
    assert _keys(project, warehouse, HOME="/elsewhere") == (bundles, sources)


# The menus' element ids: random on every prerendering (melt-ui draws them), so two full
# builds of the same pages and data differ in them too; nothing else may differ.
_RANDOM_ELEMENT_ID = re.compile(
    rb'((?:id|aria-controls|aria-labelledby|aria-describedby|for)=")[A-Za-z0-9_-]{10}(")'
)


@pytest.mark.slow
def test_a_rebuild_from_the_caches_gives_the_same_site(report_site, tmp_path: Path) -> None:
    """The session's site, built again in a new copy of the project from the same warehouse:
    both caches are hit (prerendering only) and every published file is the same, but for the
    menus' random element ids."""
    log: list[str] = []
    project = harness.prepare_project(tmp_path)
    rebuilt = reports.build_reports(
        project_dir=project, warehouse=report_site.warehouse.path, log=log.append
    )
    assert any("reusing their results" in line for line in log), log[-20:]
    assert any("reusing the compiled bundles" in line for line in log), log[-20:]

    def files(root: Path) -> dict[str, bytes]:
        return {
            path.relative_to(root).as_posix(): _RANDOM_ELEMENT_ID.sub(rb"\1-\2", path.read_bytes())
            for path in root.rglob("*")
            if path.is_file()
        }

    first, second = files(report_site.build_dir), files(rebuilt)
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, differing[:20]
