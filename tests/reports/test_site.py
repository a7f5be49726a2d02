"""The report site, built from a real warehouse (a short simulation landed and built by dbt),
in a real browser.

- Every page loads with no console error and no request leaving 127.0.0.1, is Swedish, says
  that the data is simulated, passes an axe-core WCAG 2.1 AA scan, and links each figure's
  name to a definition that exists.
- There is a page for each of the nine member municipalities.
- Chosen figures on the pages equal the same figures queried from the warehouse (computed
  here from the marts, independently of the site's own SQL).
- Tables download as CSV, by keyboard and on a phone-sized screen.
- No file of the built site holds a cell the marts suppressed (nor an average or index that
  would give one back), nor any personal value of the lending core's patrons.

Screenshots of every page go to tests/reports/artifacts/ (git-ignored).
"""

from __future__ import annotations

import bisect
import csv
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

import pytest

from privacy.rules import people_counts
from tests.reports import harness
from tests.reports.conftest import SIMULATION_SCALE

pytestmark = pytest.mark.slow

NBSP = "\u00a0"

PAGES = {
    "/": "start",
    "/oversikt/": "oversikt",
    "/likvardighet/": "likvardighet",
    "/kommuner/": "kommuner",
    "/transporter/": "transporter",
    "/scenarier/": "scenarier",
    "/bestand/": "bestand",
    "/datakvalitet/": "datakvalitet",
    "/sa-raknar-vi/": "sa-raknar-vi",
}


def swedish_number(text: str) -> float:
    """The number in a Swedish-formatted text such as "7 899", "−1 234,5" or "56,3%"."""
    cleaned = re.sub(r"[\s\u00a0\u202f%]", "", text).replace("\u2212", "-").replace(",", ".")
    return float(cleaned)


def slug(name: str) -> str:
    """The page address of a municipality: its name in lower case without accents."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c)
    )


def shown(visit: harness.PageVisit, test_id: str) -> str:
    return visit.page.get_by_test_id(test_id).inner_text().strip()


def assert_shows(
    visit: harness.PageVisit,
    test_id: str,
    expected: float | None,
    decimals: int,
    percent: bool = False,
) -> None:
    """The figure in element `test_id` is `expected` as shown with `decimals` decimals
    ("-" when the warehouse has no value)."""
    text = shown(visit, test_id)
    if expected is None:
        assert text == "-", f"{test_id}: expected no value, the page shows {text!r}"
        return
    value = expected * 100 if percent else expected
    assert swedish_number(text) == pytest.approx(value, abs=0.51 * 10**-decimals), (
        f"{test_id}: the page shows {text!r}, the warehouse has {expected!r}"
    )


def definition_links(visit: harness.PageVisit) -> list[str]:
    return visit.page.eval_on_selector_all(
        "a[href*='/sa-raknar-vi/#']", "links => links.map((a) => a.getAttribute('href'))"
    )


@pytest.fixture(scope="session")
def metrics(report_site) -> dict[str, dict]:
    rows = report_site.warehouse.query_dicts("select * from metric_definitions")
    return {row["metric"]: row for row in rows}


# ------------------------------------------------------------------------------- every page


@pytest.mark.parametrize("path", list(PAGES))
def test_page_is_clean_swedish_simulated_and_accessible(
    report_site, browser_context, metrics, path
) -> None:
    visit = harness.visit(browser_context, report_site.url(path))
    harness.screenshot(visit.page, PAGES[path])

    assert not visit.problems(), "\n".join(visit.problems())
    assert visit.page.evaluate("document.documentElement.lang") == "sv"
    notice = shown(visit, "datakalla")
    assert notice.startswith("Simulerade uppgifter."), notice
    # in words, not as a code: "2 procent av befolkningen", the scenario "utan ändringar"
    assert f"simulering av {SIMULATION_SCALE * 100:g} procent av befolkningen" in notice, notice
    assert "Scenario: utan ändringar" in notice, notice
    assert "baseline" not in notice and "skala" not in notice and "slumpfrö" not in notice
    # every figure's name that links to a definition lands on one
    targets = {href.split("#", 1)[1] for href in definition_links(visit)}
    assert targets <= set(metrics), f"links to undefined metrics: {targets - set(metrics)}"
    violations = harness.axe_violations(visit.page)
    assert not violations, harness.describe_violations(violations)
    if path == "/":
        assert visit.page.title() == "Bergslagsbibblan – rapporter"
    else:
        # The municipality list has no metric; data quality's figures (dates, row counts) are
        # explained where they stand (metric_definitions has no entries for them); the
        # glossary is where the links go.
        assert targets or path in ("/kommuner/", "/datakvalitet/", "/sa-raknar-vi/"), (
            "a report page links its figures to their definitions"
        )


def test_municipality_pages_exist_for_all_nine_members(
    report_site, browser_context, metrics
) -> None:
    warehouse = report_site.warehouse
    members = warehouse.query_dicts(
        "select municipality_code, municipality_name, cohort from dim_municipality "
        "where is_member and has_lending_data order by municipality_name"
    )
    scanned: set[str] = set()
    assert len(members) == 9
    latest = {
        row["municipality_code"]: row
        for row in warehouse.query_dicts(
            "select * from mart_equity_municipality_year "
            "where year = (select max(year) from mart_equity_municipality_year)"
        )
    }
    for member in members:
        name, page = member["municipality_name"], slug(member["municipality_name"])
        assert (report_site.build_dir / "kommuner" / page / "index.html").is_file(), name
        visit = harness.visit(browser_context, report_site.url(f"/kommuner/{page}/"))
        harness.screenshot(visit.page, f"kommun-{page}")
        assert not visit.problems(), "\n".join(visit.problems())
        assert visit.page.get_by_role("heading", level=1).inner_text().strip() == name
        year = latest[member["municipality_code"]]
        assert_shows(visit, "kommun-lan", year["loans"], 0)
        assert_shows(visit, "kommun-lan-per-invanare", year["loans_per_capita"], 2)
        assert_shows(visit, "kommun-utlanat", year["loans_to_non_residents"], 0)
        targets = {href.split("#", 1)[1] for href in definition_links(visit)}
        assert targets and targets <= set(metrics)
        # One template: scan one earlier member and one joiner (their texts differ).
        if member["cohort"] not in scanned:
            scanned.add(member["cohort"])
            violations = harness.axe_violations(visit.page)
            assert not violations, f"{name}:\n" + harness.describe_violations(violations)
        visit.page.close()
    assert scanned == {"earlier_members", "joiners"}


PAIR_COUNTS = ("loans", "borrowers", "holds_filled", "hold_patrons")


def test_municipality_pages_break_the_exchange_down_by_partner(
    report_site, browser_context
) -> None:
    """Who lends to whom: the pairs the site ships hold no count resting on 1-4 people
    (the small pairs are null, from both ends), and a municipality's page shows its
    partners one by one, with a hidden pair as a dash."""
    warehouse = report_site.warehouse
    rows = [
        row
        for path, table in harness.site_tables(report_site.build_dir)
        if path.stem == "municipality_partners_year"
        for row in table.to_pylist()
    ]
    assert rows, "the site ships the pairs (source query municipality_partners_year)"
    for row in rows:
        for column in PAIR_COUNTS:
            value = row[column]
            assert value is None or value == 0 or value >= 5, (column, row)
        assert (row["loans"] is None) == row["loans_suppressed"], row
        assert (row["hold_patrons"] is None) == row["holds_suppressed"], row
    shipped = {(r["slug"], r["direction"], r["partner_name"], r["year"]): r for r in rows}
    small = warehouse.query_dicts(
        """
        select owner.municipality_name as owner, borrower.municipality_name as borrower,
            year(pairs.period_start) as year
        from intermediate.int_municipality_pairs as pairs
        join dim_municipality as owner
            on owner.municipality_code = pairs.owner_municipality_code
        join dim_municipality as borrower
            on borrower.municipality_code = pairs.borrower_municipality_code
        where pairs.period_type = 'year' and pairs.borrowers between 1 and 4
        """
    )
    assert small, "the test data should have pairs resting on 1-4 people"
    for pair in small:
        for key in (
            (slug(pair["owner"]), "lends", pair["borrower"], pair["year"]),
            (slug(pair["borrower"]), "borrows", pair["owner"], pair["year"]),
        ):
            assert shipped[key]["loans"] is None and shipped[key]["borrowers"] is None, key

    # The page of the municipality with the most partners in the latest year lists them.
    latest = max(row["year"] for row in rows)
    partners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["year"] == latest:
            partners[row["slug"]].add(row["partner_name"])
    page = max(sorted(partners), key=lambda name: len(partners[name]))
    visit = harness.visit(browser_context, report_site.url(f"/kommuner/{page}/"))
    assert not visit.problems(), "\n".join(visit.problems())
    table = shown(visit, "kommun-partner")
    for partner in partners[page]:
        assert partner in table, f"{page}: partner {partner} missing from the table"
    published = [
        row["loans"]
        for row in rows
        if row["slug"] == page and row["year"] == latest and row["loans"] is not None
    ]
    hidden = [
        row
        for row in rows
        if row["slug"] == page and row["year"] == latest and row["loans"] is None
    ]
    assert published, f"{page}: some pair of {latest} should be published"
    # loans under a thousand need no digit grouping to be found in the text (Evidence ships
    # bigints as doubles)
    assert any(str(int(loans)) in table for loans in published if loans < 1000), table
    if hidden:
        assert re.search(r"(^|\s)[-–](\s|$)", table), "a hidden pair is shown as a dash"
    visit.page.close()


# ------------------------------------------------------------------ figures = the warehouse


def test_overview_figures_equal_the_warehouse(report_site, browser_context) -> None:
    warehouse = report_site.warehouse
    (met,) = warehouse.query(
        "select count(*) from mart_goal_progress where status in ('met_on_time', 'met_late')"
    )[0]
    ((this_year, last_year),) = warehouse.query(
        "select this_value, last_value from mart_headline_kpis where metric = 'loans_per_capita'"
    )
    assert last_year is not None, "the test data should cover last year's same months"
    # The headline rate is the consortium's: all loans, hidden cells included, over all
    # the municipalities' population denominators (the mart's unit test does it by hand).
    ((loans, denominator),) = warehouse.query(
        """
        with window_months as (
            select * from intermediate.int_equity_municipality_period
            where period_type = 'month' and is_complete_period
              and period_start between (select first_month from mart_headline_kpis limit 1)
                                   and (select last_month from mart_headline_kpis limit 1)
        )
        select sum(loans), (select sum(d) from (
            select distinct municipality_code, population_denominator as d from window_months))
        from window_months
        """
    )
    assert this_year == pytest.approx(loans / denominator, abs=1e-6)

    visit = harness.visit(browser_context, report_site.url("/oversikt/"))
    assert_shows(visit, "milstolpar-uppnadda", met, 0)
    row = (
        visit.page.get_by_test_id("DataTable-nyckeltal")
        .get_by_role("row")
        .filter(has_text="Lån per invånare")
    )
    cells = row.get_by_role("cell")
    assert swedish_number(cells.nth(1).inner_text()) == pytest.approx(this_year, abs=0.0051)
    assert swedish_number(cells.nth(2).inner_text()) == pytest.approx(last_year, abs=0.0051)
    # the milestones on a timeline, one row each, with their status in words
    (milestones,) = warehouse.query("select count(*) from mart_goal_progress")[0]
    timeline = visit.page.get_by_test_id("tidslinje")
    assert timeline.get_by_role("listitem").count() == milestones
    assert "Mål:" in timeline.inner_text()


def test_equity_figures_equal_the_warehouse(report_site, browser_context) -> None:
    warehouse = report_site.warehouse
    ((top_name, top_value),) = warehouse.query(
        "select municipality_name, loans_per_capita from mart_equity_municipality_year "
        "where year = (select max(year) from mart_equity_municipality_year) "
        "order by loans_per_capita desc nulls last limit 1"
    )
    # The mart withholds a month with a hidden member; the page averages the months shown.
    comparison = warehouse.query_dicts(
        "select * from mart_equity_join_did_month where metric = 'loans_per_capita'"
    )
    shown_months = [
        row["difference_in_differences"]
        for row in comparison
        if row["is_after_join"]
        and row["is_complete_period"]
        and row["difference_in_differences"] is not None
    ]
    did = sum(shown_months) / len(shown_months) if shown_months else None

    visit = harness.visit(browser_context, report_site.url("/likvardighet/"))
    assert shown(visit, "hogst-lan-kommun") == top_name
    assert_shows(visit, "hogst-lan-varde", top_value, 2)
    if did is not None:
        assert_shows(visit, "did-genomsnitt", did, 3)
    else:  # the page says why it shows no comparison
        assert visit.page.get_by_test_id("did-genomsnitt").count() == 0
        assert shown(visit, "did-undanhallen") == "visas jämförelsen inte"


def test_transport_figures_equal_the_warehouse(report_site, browser_context) -> None:
    warehouse = report_site.warehouse
    ((items, budget, per_hold),) = warehouse.query(
        "select sum(items_sent), sum(allocated_cost_sek), "
        "sum(allocated_cost_sek) / sum(collected_hold_transports) from mart_transport_month "
        "where year = (select max(year) from mart_transport_month)"
    )
    ((direct_days,),) = warehouse.query(
        "select sum(days_in_transit_median * items_received) "
        "/ sum(items_received) filter (where days_in_transit_median is not null) "
        "from mart_transport_month where route_kind = 'direct' "
        "and year = (select max(year) from mart_transport_month)"
    )
    # Who gains most: collected holds that came from another municipality per 1 000
    # inhabitants (s × population).
    ((gainer,),) = warehouse.query(
        """
        select y.municipality_name
        from mart_equity_municipality_year as y
        left join (
            select year, to_municipality_code, sum(collected_hold_transports) as holds
            from mart_transport_month
            where from_municipality_code <> to_municipality_code
            group by all
        ) as t on t.year = y.year and t.to_municipality_code = y.municipality_code
        where y.year = (select max(year) from mart_transport_month)
        order by coalesce(t.holds, 0) / y.population_denominator desc
        limit 1
        """
    )

    visit = harness.visit(browser_context, report_site.url("/transporter/"))
    assert_shows(visit, "transport-skickade", items, 0)
    assert_shows(visit, "transport-budget", budget, 0)
    assert_shows(visit, "transport-kostnad-per-hamtad", per_hold, 2)
    assert_shows(visit, "direkt-dagar", direct_days, 1)
    assert shown(visit, "nytta-kommun") == gainer


def test_collection_pages_show_each_municipalitys_moves_in_and_out(
    report_site, browser_context, metrics
) -> None:
    """/bestand/ and a page per member municipality: the number of moves in and out equal
    the warehouse's, the top moves in are the municipality's best (by advice_rank), and one
    of the pages passes the axe scan (one template)."""
    warehouse = report_site.warehouse
    ((moves,),) = warehouse.query("select count(*) from mart_collection_advice")
    assert moves, "the test world should give some advice"
    visit = harness.visit(browser_context, report_site.url("/bestand/"))
    assert_shows(visit, "bestand-flyttar", moves, 0)
    # the world tries no advice in a rerun (make scenario-advice): the page says how to
    ((checks,),) = warehouse.query("select count(*) from mart_scenario_advice_check")
    assert checks == 0
    assert "make scenario-advice" in shown(visit, "provning-saknas")
    visit.page.close()
    members = warehouse.query(
        "select municipality_code, municipality_name from dim_municipality "
        "where is_member and has_lending_data order by municipality_name"
    )
    counts = dict(
        ((code, way), n)
        for code, way, n in warehouse.query(
            "select to_municipality_code, 'in', count(*) from mart_collection_advice group by 1 "
            "union all select from_municipality_code, 'out', count(*) "
            "from mart_collection_advice group by 1"
        )
    )
    busiest = max(members, key=lambda m: counts.get((m[0], "in"), 0))
    for code, name in members:
        page = slug(name)
        assert (report_site.build_dir / "bestand" / page / "index.html").is_file(), name
        visit = harness.visit(browser_context, report_site.url(f"/bestand/{page}/"))
        assert not visit.problems(), "\n".join(visit.problems())
        assert visit.page.get_by_role("heading", level=1).inner_text().strip() == f"Bestånd: {name}"
        assert_shows(visit, "bestand-flyttar-hit", counts.get((code, "in"), 0), 0)
        assert_shows(visit, "bestand-flyttar-harifran", counts.get((code, "out"), 0), 0)
        targets = {href.split("#", 1)[1] for href in definition_links(visit)}
        assert targets and targets <= set(metrics)
        if (code, name) == busiest:
            harness.screenshot(visit.page, f"bestand-{page}")
            best = warehouse.query(
                "select title from mart_collection_advice where to_municipality_code = ? "
                "order by advice_rank limit 1",
                [code],
            )[0][0]
            assert best in visit.page.inner_text("body")
            violations = harness.axe_violations(visit.page)
            assert not violations, f"{name}:\n" + harness.describe_violations(violations)
        visit.page.close()


def test_the_collection_advice_ships_no_hold_count_under_five_patrons(report_site) -> None:
    """The advice's hold counts rest on people: the site ships them only where the mart
    publishes them (5 patrons or more), and the unsuppressed counts stay in intermediate."""
    shipped = [
        table.to_pylist()
        for path, table in harness.site_tables(report_site.build_dir)
        if path.stem == "collection_advice" and path.suffix == ".parquet"
    ]
    assert shipped and shipped[0], "the site should ship the advice"
    rows = shipped[0]
    assert all(row["holds_by_van"] is None for row in rows if row["holds_suppressed"])
    assert all(row["holds_by_van"] >= 5 for row in rows if not row["holds_suppressed"])
    assert any(row["holds_suppressed"] for row in rows), "small counts should occur here"
    assert not {"hold_patrons", "patron_key"} & set(rows[0])


def test_data_quality_figures_equal_the_warehouse(report_site, browser_context) -> None:
    ((newest, quarantined),) = report_site.warehouse.query(
        "select max(newest_date) filter (where table_kind = 'events'), sum(quarantined_rows) "
        "from mart_data_quality"
    )
    visit = harness.visit(browser_context, report_site.url("/datakvalitet/"))
    assert shown(visit, "senaste-handelse") == newest.isoformat()
    assert_shows(visit, "karantan", quarantined, 0)


def test_scenario_page_says_that_no_scenario_has_been_run(report_site, browser_context) -> None:
    """The world runs no scenario (`bibbla scenario run` writes into its own data folders):
    the comparison is empty and the page says so instead of showing empty tables."""
    ((rows,),) = report_site.warehouse.query("select count(*) from mart_scenario_comparison")
    assert rows == 0
    visit = harness.visit(browser_context, report_site.url("/scenarier/"))
    assert shown(visit, "scenarier-saknas").startswith("Inget scenario har körts ännu.")
    assert "make scenarios" in shown(visit, "scenarier-saknas")
    assert visit.page.get_by_role("heading", name="Kostnaden för regionen").count() == 0


def test_every_metric_has_its_definition_on_the_glossary(
    report_site, browser_context, metrics
) -> None:
    visit = harness.visit(browser_context, report_site.url("/sa-raknar-vi/"))
    for metric, row in metrics.items():
        section = visit.page.locator(f"section[id='{metric}']")
        assert section.count() == 1, f"no definition of {metric}"
        assert section.locator("h4").inner_text().strip() == row["label_sv"]
        assert section.locator("p").first.inner_text().strip() == row["definition_sv"]


def test_table_downloads_as_csv_by_keyboard_and_on_a_phone(
    report_site, browser_context, tmp_path
) -> None:
    expected = {
        (name, population)
        for name, population in report_site.warehouse.query(
            "select municipality_name, latest_population from dim_municipality "
            "where has_lending_data"
        )
    }
    visit = harness.visit(browser_context, report_site.url("/kommuner/"))
    button = visit.page.get_by_role("button", name="Ladda ned tabellen (CSV)")
    button.focus()
    with visit.page.expect_download() as download_info:
        visit.page.keyboard.press("Enter")
    download = download_info.value
    # Also on a phone-sized screen, where Evidence's own button is hidden.
    visit.page.set_viewport_size({"width": 390, "height": 844})
    assert button.is_visible()
    assert download.suggested_filename.startswith("kommuner")
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "download.csv"
    download.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(row["kommun"], int(float(row["invanare"]))) for row in rows} == expected


# --------------------------------------------------------------------- what the site ships

# The per-municipality cells of the equity marts and the unsuppressed intermediate column
# each comes from.
SUPPRESSIBLE = {
    **people_counts(),
    "loans_per_capita": "loans_per_capita",
    "renewals_per_capita": "renewals_per_capita",
    "active_borrower_share": "active_borrower_share",
    "collection_turnover": "collection_turnover",
    "hold_fill_rate": "hold_fill_rate",
    "hold_wait_days_median": "hold_wait_days_median",
    "hold_wait_days_p90": "hold_wait_days_p90",
    "shared_loan_share": "shared_loan_share",
    "net_lending": "net_lending",
    "children_loans_per_child": "children_loans_per_child",
    "multi_municipality_borrower_share": "multi_municipality_borrower_share",
}
# Source queries with one row per municipality and period (and their grain). A new one must
# be added here, or the test fails rather than skip it.
PER_MUNICIPALITY_PERIOD = {
    "municipality_periods": None,
    "municipality_metrics": None,
}  # None: a `grain` column says


@dataclass(frozen=True)
class SuppressedCell:
    grain: str
    municipality_code: str
    municipality_name: str
    period_start: date
    column: str
    raw_value: float  # the unsuppressed value, from the intermediate model


def suppressed_cells(warehouse) -> list[SuppressedCell]:
    """Every cell the equity marts publish as null (disclosure control) whose unsuppressed
    value in int_equity_municipality_period is not null (counts: not 0)."""
    cells = []
    for grain in ("month", "year"):
        rows = warehouse.query_dicts(
            f"""
            select
                m.municipality_code, m.municipality_name, m.period_start,
                {", ".join(f"m.{c} as published_{c}" for c in SUPPRESSIBLE)},
                {", ".join(f"i.{r} as raw_{c}" for c, r in SUPPRESSIBLE.items())}
            from mart_equity_municipality_{grain} as m
            inner join intermediate.int_equity_municipality_period as i
                on i.municipality_code = m.municipality_code
                and i.period_start = m.period_start
                and i.period_type = '{grain}'
            """
        )
        for row in rows:
            for column in SUPPRESSIBLE:
                raw = row[f"raw_{column}"]
                if row[f"published_{column}"] is None and raw is not None and raw != 0:
                    cells.append(
                        SuppressedCell(
                            grain,
                            row["municipality_code"],
                            row["municipality_name"],
                            row["period_start"],
                            column,
                            float(raw),
                        )
                    )
    return cells


def as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def test_site_publishes_no_suppressed_cell(report_site) -> None:
    """A cell the marts suppressed is null wherever the site ships it, and its unsuppressed
    value appears nowhere in the site's query results.

    The site ships two kinds of query results: the source queries' Parquet files (read from
    the marts) and the pages' prerendered Arrow files (computed from those Parquet files,
    so they can hold no cell those lack). A small count (1-4) cannot be searched for as a
    number — 3 is everywhere — so each suppressed cell is looked up in context: the row of
    its municipality and period in every source query that has one, in the column of the
    same name (or the `metric`/`value` pair of a long table). A suppressed per-capita rate
    (such as 3 / 28.55, the denominator being s × population) is distinctive: no number of
    any query result may equal it. Ratios of small whole numbers (1/12, 5/17) are not
    distinctive — other figures take those values too — and neither is a number the marts
    publish elsewhere: those are only checked in context.
    """
    warehouse = report_site.warehouse
    cells = suppressed_cells(warehouse)
    assert cells, "the test data should have suppressed cells (a smaller scale makes them)"

    names = dict(
        warehouse.query("select municipality_code, municipality_name from dim_municipality")
    )
    names_by_slug = {slug(name): name for name in names.values()}
    tables = list(harness.site_tables(report_site.build_dir))
    by_key: dict[tuple, list[dict]] = defaultdict(list)  # (grain, name, period) -> rows
    for path, table in tables:
        columns = set(table.column_names)
        if path.suffix != ".parquet" or "period_start" not in columns:
            continue
        if not columns & {"municipality_code", "municipality_name", "slug"}:
            continue
        assert path.stem in PER_MUNICIPALITY_PERIOD, (
            f"source query {path.stem} has a row per municipality and period: add it to "
            "PER_MUNICIPALITY_PERIOD so that its cells are checked"
        )
        for row in table.to_pylist():
            grain = PER_MUNICIPALITY_PERIOD[path.stem] or row["grain"]
            name = (
                row.get("municipality_name")
                or names.get(row.get("municipality_code"))
                or names_by_slug.get(row.get("slug"))
            )
            by_key[(grain, name, as_date(row["period_start"]))].append(row | {"_file": path.stem})

    looked_up = 0
    leaks = []
    for cell in cells:
        for row in by_key.get((cell.grain, cell.municipality_name, cell.period_start), []):
            if cell.column in row:
                looked_up += 1
                if row[cell.column] is not None:
                    leaks.append((row["_file"], cell, row[cell.column]))
            if row.get("metric") == cell.column:
                looked_up += 1
                if row.get("value") is not None:
                    leaks.append((row["_file"], cell, row["value"]))
    assert looked_up, "no suppressed cell was found in any source query: check the keys"
    assert not leaks, f"suppressed cells published: {leaks[:10]}"

    # The distinctive values: non-integer rates, unless the marts publish the same number.
    published = set()
    for grain in ("month", "year"):
        for row in warehouse.query(
            f"select {', '.join(SUPPRESSIBLE)} from mart_equity_municipality_{grain}"
        ):
            published.update(float(value) for value in row if value is not None)
    published_sorted = sorted(published)

    def near(value: float, pool: list[float]) -> bool:
        index = bisect.bisect_left(pool, value - abs(value) * 1e-9)
        return index < len(pool) and math.isclose(pool[index], value, rel_tol=1e-9)

    def simple_fraction(value: float) -> bool:
        return math.isclose(float(Fraction(value).limit_denominator(100)), value, rel_tol=1e-12)

    distinctive = [
        cell
        for cell in cells
        if not simple_fraction(cell.raw_value) and not near(cell.raw_value, published_sorted)
    ]
    assert distinctive, "the test data should have suppressed rates to search for"
    site_numbers = sorted(
        float(value)
        for _path, table in tables
        for column in table.columns
        for value in column.to_pylist()
        if isinstance(value, float) and math.isfinite(value)
    )
    found = [cell for cell in distinctive if near(cell.raw_value, site_numbers)]
    assert not found, f"suppressed values in the site's query results: {found[:10]}"


def test_averages_and_indices_cannot_give_a_suppressed_value_back(report_site) -> None:
    """The marts compute means and inequality indices over every municipality, suppressed
    values included; published beside the other municipalities' values and populations, a
    mean gives the missing one back by subtraction. The site publishes an index row only
    when every municipality it covers has its value published."""
    tables = {
        path.stem: table.to_pylist()
        for path, table in harness.site_tables(report_site.build_dir)
        if path.suffix == ".parquet"
    }

    def of_grain(source: str, grain: str) -> list[dict]:
        rows = [row for row in tables[source] if row["grain"] == grain]
        assert rows, f"{source} has no {grain} rows"
        return rows

    published: dict[tuple, int] = defaultdict(int)  # (grain, period, metric, scope) -> count
    published_by_cohort: dict[tuple, int] = defaultdict(int)  # (period, metric, cohort)
    for grain in ("month", "year"):
        for row in of_grain("municipality_periods", grain):
            period = as_date(row["period_start"])
            for metric, value in row.items():
                if value is None:
                    continue
                published[(grain, period, metric, "all_with_data")] += 1
                if row["is_member"]:
                    published[(grain, period, metric, "members")] += 1
                if grain == "month":
                    published_by_cohort[(period, metric, row["cohort"])] += 1

    checked = withheld = 0
    for grain in ("month", "year"):
        for row in of_grain("equity_index", grain):
            key = (grain, as_date(row["period_start"]), row["metric"], row["scope"])
            if row["is_withheld"]:
                # withheld: no statistic, and it says over how many it would have been
                assert row["mean_value"] is None and row["coefficient_of_variation"] is None
                assert row["municipalities"] > published[key], row
                withheld += 1
                continue
            # published: over every municipality in scope, each published (not over fewer
            # than the scope says, which is what dropping a hidden one silently did)
            assert row["municipalities"] == published[key], row
            checked += 1
    # at this small scale hidden cells are common: the rule must have bitten
    assert withheld, "expected some withheld index rows at scale 0.02"
    for row in tables["join_comparison"]:
        if row["is_withheld"]:
            assert row["joiners_mean"] is None and row["gap"] is None
            continue
        period = as_date(row["first_calendar_month"])
        assert (
            row["joiner_municipalities"] == published_by_cohort[(period, row["metric"], "joiners")]
        )
        assert (
            row["earlier_municipalities"]
            == published_by_cohort[(period, row["metric"], "earlier_members")]
        )
        checked += 1
    assert checked


def test_site_contains_no_personal_value(report_site) -> None:
    values = report_site.warehouse.personal_values()
    assert all(values.values()), "the test's lending core should have patrons' details"
    # Positive control: the scanner finds what the site does publish (a municipality name,
    # inside the compressed query results).
    assert any(
        hit.path.suffix in (".parquet", ".arrow")
        for hit in harness.scan_site(report_site.build_dir, ["Ljusnarsberg"])
    )
    hits = harness.find_personal_values(report_site.build_dir, values)
    assert not hits, "\n".join(f"{hit.path}: {hit.needle} ({hit.where})" for hit in hits[:20])


def test_year_and_month_figures_cannot_give_a_suppressed_month_back(report_site) -> None:
    tables: dict[str, list[dict]] = defaultdict(list)  # by grain
    for path, table in harness.site_tables(report_site.build_dir):
        if path.stem == "municipality_periods":
            for row in table.to_pylist():
                tables[f"municipality_{row['grain']}"].append(row)
    assert tables["municipality_month"] and tables["municipality_year"]
    counts = [
        c
        for c in SUPPRESSIBLE
        if c in tables["municipality_year"][0]
        # counts that add up over months (distinct people, such as active borrowers, do
        # not: a year's borrowers minus the months' gives nothing back)
        and c
        in (
            "loans",
            "child_loans",
            "shared_loans",
            "loans_to_non_residents",
            "holds_placed",
            "holds_ready",
        )
    ]
    suppressed_months: dict[tuple, int] = defaultdict(int)
    for row in tables["municipality_month"]:
        for column in counts:
            if row.get(column) is None:
                suppressed_months[(row["municipality_code"], row["year"], column)] += 1
    recoverable = [
        (row["municipality_name"], row["year"], column)
        for row in tables["municipality_year"]
        for column in counts
        if row.get(column) is not None
        and suppressed_months[(row["municipality_code"], row["year"], column)] == 1
    ]
    assert not recoverable, f"a suppressed month = the year minus the other months: {recoverable}"
