"""Fixtures for the report-site browser tests.

The site is built once per test run (tests/world.py: in a fresh clone a full build, about a
minute and 3 GB; later builds reuse what `bibbla.reports` cached when nothing changed) from
the shared world's warehouse — a real one: a simulation at a small scale, landed and built by
dbt and the nightly pipeline run — into a scratch copy of reports/, and each test process
serves it on a free port of 127.0.0.1. A page test asks for `report_site` and
`browser_context`:

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
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bibbla.reports import ReportsBuildError, node_version
from tests.reports import harness
from tests.world import SCALE, shared_root, shared_site, shared_world

# The world's scale (tests/world.py: from a January, across the joins of 2025-04-01, ending
# with a complete month, at a scale that makes small numbers and suppressed cells common).
SIMULATION_SCALE = SCALE


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


@dataclass(frozen=True)
class ReportWarehouse:
    """The warehouse the test site is built from, and the lending core behind it."""

    path: Path
    operational_db: Path  # SQLite file of the simulated lending core (personal data)
    landing: Path  # the pseudonymised Parquet the warehouse was built from

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, parameters or []).fetchall()

    def query_dicts(self, sql: str, parameters: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            cursor = connection.execute(sql, parameters or [])
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def personal_values(self) -> dict[str, set[str]]:
        """Every name, e-mail address, phone number and card number of the lending core's
        patrons: none of them may reach the site."""
        with sqlite3.connect(self.operational_db) as connection:
            rows = connection.execute("select name, email, phone, card_number from patron")
            values: dict[str, set[str]] = {
                "name": set(),
                "email": set(),
                "phone": set(),
                "card_number": set(),
            }
            for name, email, phone, card_number in rows:
                for kind, value in (
                    ("name", name),
                    ("email", email),
                    ("phone", phone),
                    ("card_number", card_number),
                ):
                    if value:
                        values[kind].add(value)
        return values


@pytest.fixture(scope="session")
def report_warehouse(report_node, tmp_path_factory) -> ReportWarehouse:
    """The shared world's warehouse, built the way the pipeline builds it: the simulator
    filled a new lending core, ingestion landed it (pseudonymised) and dbt built every model
    and test. Needs Node only because nothing else here uses it: without Node the report
    tests skip."""
    world = shared_world(shared_root(tmp_path_factory.getbasetemp()))
    if world.pipeline_returncode != 0:
        pytest.fail(f"the world's pipeline run failed:\n{world.pipeline_output}")
    settings = world.settings
    return ReportWarehouse(
        path=settings.warehouse_path,
        operational_db=world.operational_db,
        landing=settings.landing_path,
    )


@dataclass(frozen=True)
class ReportSite:
    """A built and served report site."""

    build_dir: Path
    base_url: str
    warehouse: ReportWarehouse

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def report_site(report_tools, report_warehouse, tmp_path_factory) -> Iterator[ReportSite]:
    """The site built once per run from `report_warehouse`, served here on 127.0.0.1."""
    site = shared_site(shared_root(tmp_path_factory.getbasetemp()))
    with harness.serving(site.build_dir) as base_url:
        yield ReportSite(build_dir=site.build_dir, base_url=base_url, warehouse=report_warehouse)


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
