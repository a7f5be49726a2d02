"""`bibbla.reports` short of a full build: how the warehouse path reaches Evidence, the clear
failures when the warehouse, Node or a source query is wrong, and the file scanner on a
made-up site."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bibbla import reports
from bibbla.config import Settings
from tests.reports import harness


def test_warehouse_path_reaches_evidence_relative_to_the_source_folder(tmp_path: Path) -> None:
    project = tmp_path / "reports"
    warehouse = tmp_path / "elsewhere" / "warehouse.duckdb"
    env = reports._environment(project, warehouse)
    filename = env["EVIDENCE_SOURCE__warehouse__filename"]
    # The DuckDB plugin joins `filename` to the source folder, so it must be relative.
    assert not os.path.isabs(filename)
    assert (project / "sources" / "warehouse" / filename).resolve() == warehouse.resolve()


def test_an_inherited_evidence_source_variable_does_not_win(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EVIDENCE_SOURCE__warehouse__filename", "/somewhere/else.duckdb")
    env = reports._environment(tmp_path, tmp_path / "w.duckdb")
    assert env["EVIDENCE_SOURCE__warehouse__filename"] == os.path.relpath(
        tmp_path / "w.duckdb", tmp_path / "sources" / "warehouse"
    )


def test_default_connection_file_points_at_the_default_warehouse() -> None:
    connection = (reports.REPORTS_DIR / "sources" / "warehouse" / "connection.yaml").read_text()
    filename = next(
        line.split(":", 1)[1].strip()
        for line in connection.splitlines()
        if line.strip().startswith("filename:")
    )
    source_dir = reports.REPORTS_DIR / "sources" / "warehouse"
    default = Settings(_env_file=None, warehouse=Path("")).warehouse_path
    assert (source_dir / filename).resolve() == default.resolve()


def test_build_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(reports.ReportsBuildError, match=r"no warehouse at .*missing\.duckdb"):
        reports.build_reports(warehouse=tmp_path / "missing.duckdb")


def test_missing_node_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    monkeypatch.setattr(reports.shutil, "which", lambda _name: None)
    with pytest.raises(reports.ReportsBuildError, match=r"need Node\.js 20 and npm"):
        reports.build_reports(warehouse=tmp_path / "warehouse.duckdb")


def test_install_is_needed_until_the_lock_file_was_installed(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    assert reports.install_needed(tmp_path)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / reports.INSTALL_STAMP).write_text(reports._lock_hash(tmp_path))
    assert not reports.install_needed(tmp_path)
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "changed": true}')
    assert reports.install_needed(tmp_path)


def test_scan_site_reads_text_and_decodes_data_files(tmp_path: Path) -> None:
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<p>Ett namn: Agda Ärlig</p>")
    pq.write_table(
        pa.table({"kommun": ["Nora"], "personer": [3]}),
        tmp_path / "data.parquet",
        compression="zstd",  # compressed: a byte search alone would not find the values
    )
    hits = harness.scan_site(tmp_path, ["Agda Ärlig", "Nora", "3", "Ingen"])
    assert {(hit.path.name, hit.needle, hit.where) for hit in hits} == {
        ("index.html", "Agda Ärlig", "text"),
        ("data.parquet", "Nora", "column kommun"),
        ("data.parquet", "3", "column personer"),
    }


def test_find_personal_values_finds_them_however_written(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<p>Låntagare: Agda Ärlig (AGDA.ARLIG7@example.se), tel. 077 123 45 67</p>"
        "<p>Agda Ärligsson is someone else; 2025-04-01 is a date</p>"
    )
    pq.write_table(
        pa.table({"kort": ["1814-0000042", "1814-0000043"], "n": [1, 2]}),
        tmp_path / "data.parquet",
        compression="zstd",
    )
    values = {
        "name": {"Agda Ärlig", "Bo Ek"},
        "email": {"agda.arlig7@example.se"},
        "phone": {"077-1234567", "070-7654321"},
        "card_number": {"1814-0000042"},
    }
    hits = harness.find_personal_values(tmp_path, values)
    assert {(hit.path.name, hit.needle, hit.where) for hit in hits} == {
        ("page.html", "Agda Ärlig", "name"),
        ("page.html", "agda.arlig7@example.se", "email"),
        ("page.html", "077-1234567", "number"),
        ("data.parquet", "1814-0000042", "number"),
    }


@pytest.mark.slow
def test_a_failing_source_query_fails_the_build_with_its_error(
    report_node, report_warehouse, tmp_path: Path
) -> None:
    reports.ensure_installed(reports.REPORTS_DIR, log=print)
    overlay = tmp_path / "overlay" / "sources" / "warehouse"
    overlay.mkdir(parents=True)
    (overlay / "broken.sql").write_text("select * from no_such_table\n")
    project = harness.prepare_project(tmp_path, tmp_path / "overlay")
    with pytest.raises(reports.ReportsBuildError, match="npm run sources failed") as failure:
        reports.build_reports(project_dir=project, warehouse=report_warehouse.path, log=print)
    assert "no_such_table" in str(failure.value)
    assert not (project / "build").exists()
