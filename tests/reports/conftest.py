"""Fixtures for the report-site browser tests.

The site is built once per session (about a minute and 3 GB) from `report_warehouse` into a
scratch copy of reports/ with the test-only files of `site_overlay/` laid over it, and served
on a free port of 127.0.0.1. A page test asks for `report_site` and `browser_context`:

    def test_start_page(report_site, browser_context):
        visit = harness.visit(browser_context, report_site.url("/"))
        assert not visit.problems()
        assert not harness.axe_violations(visit.page)
        harness.screenshot(visit.page, "start")

Without Node 20, Chromium or Playwright these tests are skipped with the reason; with
BIBBLA_REQUIRE_BROWSER=1 (as under CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bibbla.reports import (
    REPORTS_DIR,
    ReportsBuildError,
    build_reports,
    install_needed,
    node_version,
)
from bibbla.reports import install as install_reports
from tests.reports import harness

OVERLAY_DIR = Path(__file__).resolve().parent / "site_overlay"


def _browser_required() -> bool:
    return os.environ.get("BIBBLA_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _browser_required():
        pytest.fail(f"{reason} (BIBBLA_REQUIRE_BROWSER is set, so this is an error)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def report_node() -> None:
    """Node 20 and npm, or skip (fail under BIBBLA_REQUIRE_BROWSER)."""
    try:
        node_version()
    except ReportsBuildError as error:
        _unavailable(f"report tests need Node.js: {error}")


@pytest.fixture(scope="session")
def report_tools(report_node) -> None:
    """Also Debian's Chromium and Playwright, or skip (fail under BIBBLA_REQUIRE_BROWSER)."""
    if not harness.CHROMIUM.is_file():
        _unavailable(
            f"report tests need Chromium at {harness.CHROMIUM} (apt-get install chromium, "
            "or set BIBBLA_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("report tests need the Python package playwright (uv sync --group dev)")


# The small warehouse the proof page reads. Values are chosen to show the Swedish formats
# (thousands and decimals) and to be distinctive for the file scans.
PROOF_LOANS = [("Lindesberg", 5678, 0.4131), ("Nora", 1234, 0.0877), ("Hällefors", 987, 0.0621)]
UNPUBLISHED_PATRON = "Xylofon-Testsson"  # in the warehouse, read by no source query


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory) -> Path:
    """A DuckDB warehouse written by the project's duckdb (1.5.x) with one small table the
    proof page publishes and one it must not. Tests of the real pages will need a warehouse
    built by dbt: override this fixture for them."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create table proof_loans (municipality varchar, loans integer, share double)"
        )
        connection.executemany("insert into proof_loans values (?, ?, ?)", PROOF_LOANS)
        connection.execute("create table proof_patrons (name varchar)")
        connection.execute("insert into proof_patrons values (?)", [UNPUBLISHED_PATRON])
    return path


@dataclass(frozen=True)
class ReportSite:
    """A built and served report site."""

    build_dir: Path
    base_url: str
    warehouse: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def report_site(report_tools, report_warehouse, tmp_path_factory) -> Iterator[ReportSite]:
    """The site built once per session from `report_warehouse` and served on 127.0.0.1."""
    if install_needed(REPORTS_DIR):
        install_reports(REPORTS_DIR, log=print)
    project = harness.prepare_project(tmp_path_factory.mktemp("site"), OVERLAY_DIR)
    build_dir = build_reports(project_dir=project, warehouse=report_warehouse, log=print)
    with harness.serving(build_dir) as base_url:
        yield ReportSite(build_dir=build_dir, base_url=base_url, warehouse=report_warehouse)


@pytest.fixture(scope="session")
def chromium(report_tools):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium):
    """A fresh browser profile per test in a laptop-sized window. The browser's language is
    English on purpose: the site must show Swedish formats whatever the reader's browser says."""
    context = chromium.new_context(
        locale="en-US",
        timezone_id="Europe/Stockholm",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(30_000)
    yield context
    context.close()
