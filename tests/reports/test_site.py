"""The report site in a real browser: it builds from a DuckDB warehouse, loads with no
console error and no request leaving 127.0.0.1, shows the warehouse's numbers in Swedish
formats, offers tables as CSV, passes an axe-core WCAG 2.1 AA scan and publishes only what
its queries select.

The proof page (`site_overlay/pages/testsida.md`) exists only in the test build."""

from __future__ import annotations

import csv
import re

import duckdb
import pytest

from tests.reports import harness
from tests.reports.conftest import PROOF_LOANS, UNPUBLISHED_PATRON

pytestmark = pytest.mark.slow

NBSP = "\u00a0"


def swedish_number(text: str) -> float:
    """The number in a Swedish-formatted text such as "7 899", "−1 234,5" or "56,3%"."""
    cleaned = re.sub(r"[\s\u00a0\u202f%]", "", text).replace("\u2212", "-").replace(",", ".")
    return float(cleaned)


def test_start_page_is_swedish_clean_and_accessible(report_site, browser_context) -> None:
    visit = harness.visit(browser_context, report_site.url("/"))
    harness.screenshot(visit.page, "start")

    assert not visit.problems(), "\n".join(visit.problems())
    assert visit.page.evaluate("document.documentElement.lang") == "sv"
    assert visit.page.title() == "Bergslagsbibblan – rapporter"
    violations = harness.axe_violations(visit.page)
    assert not violations, harness.describe_violations(violations)


def test_proof_page_shows_the_warehouse_numbers_in_swedish(report_site, browser_context) -> None:
    with duckdb.connect(str(report_site.warehouse), read_only=True) as connection:
        loans, share = connection.execute(
            "select sum(loans), sum(share) from proof_loans"
        ).fetchone()

    visit = harness.visit(browser_context, report_site.url("/testsida/"))
    harness.screenshot(visit.page, "testsida")
    assert not visit.problems(), "\n".join(visit.problems())

    shown_loans = visit.page.get_by_test_id("loans-total").inner_text().strip()
    shown_share = visit.page.get_by_test_id("share-total").inner_text().strip()
    assert swedish_number(shown_loans) == loans
    assert swedish_number(shown_share) == pytest.approx(share * 100, abs=0.05)
    # Swedish formats: a no-break space between thousands and a decimal comma.
    assert shown_loans == f"{loans // 1000}{NBSP}{loans % 1000:03d}"
    assert shown_share == f"{share * 100:.1f}%".replace(".", ",")

    table = visit.page.get_by_role("table")
    for municipality, count, _share in PROOF_LOANS:
        row = table.get_by_role("row").filter(has_text=municipality)
        assert swedish_number(row.get_by_role("cell").nth(1).inner_text()) == count


def test_proof_page_is_accessible(report_site, browser_context) -> None:
    visit = harness.visit(browser_context, report_site.url("/testsida/"))
    violations = harness.axe_violations(visit.page)
    assert not violations, harness.describe_violations(violations)


def test_table_downloads_as_csv_by_keyboard_and_on_a_phone(
    report_site, browser_context, tmp_path
) -> None:
    visit = harness.visit(browser_context, report_site.url("/testsida/"))
    button = visit.page.get_by_role("button", name="Ladda ned tabellen (CSV)")
    button.focus()
    with visit.page.expect_download() as download_info:
        visit.page.keyboard.press("Enter")
    download = download_info.value
    # Also on a phone-sized screen, where Evidence's own button is hidden.
    visit.page.set_viewport_size({"width": 390, "height": 844})
    assert button.is_visible()
    assert download.suggested_filename.startswith("lan-per-kommun")
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "download.csv"
    download.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(row["kommun"], int(row["lan"])) for row in rows} == {
        (municipality, count) for municipality, count, _share in PROOF_LOANS
    }


def test_site_publishes_only_what_its_queries_select(report_site) -> None:
    # Positive control: a published value is found, also inside the query-result files.
    published = harness.scan_site(report_site.build_dir, ["Hällefors"])
    assert any(hit.path.suffix in (".parquet", ".arrow") for hit in published), published
    # A value of the warehouse that no source query selects is in no file of the site.
    assert harness.scan_site(report_site.build_dir, [UNPUBLISHED_PATRON]) == []
