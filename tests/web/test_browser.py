"""The visitors' web in a real browser (Debian's Chromium through Playwright) against a real
`bibbla serve`: search, narrow by a facet, sign in, reserve for pick-up at another library,
see it on Mina sidor, renew, be refused a renewal with the reason in Swedish, sign out — on
a desktop, on a phone-sized screen and with the keyboard alone; axe-core finds no serious
or critical WCAG 2.1 A/AA violation on any page.

The server starts once for the module (about two seconds) on a small library built in the
fixture (tests/web/conftest.py). Without Chromium or Playwright the tests are skipped with
the reason; with BIBBLA_REQUIRE_BROWSER=1 (as under CI) they fail instead. Screenshots go to
tests/web/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from operational.adapters import schema
from operational.adapters.database import create_database_engine
from tests.conftest import REFERENCE_DIR
from tests.server import ServerProcess
from tests.web import browser as tools
from tests.web.conftest import Library, build_library

# A title page's address (its path, with no query): /titel/<id>.
TITLE_PAGE = re.compile(r"^https?://[^/]+/titel/\d+$")


@pytest.fixture(scope="module")
def site(tmp_path_factory, hasher):
    tools.check_tools()
    folder = tmp_path_factory.mktemp("web-site")
    url = f"sqlite:///{folder / 'operational.sqlite'}"
    engine = create_database_engine(url)
    schema.init(engine, REFERENCE_DIR)
    library = build_library(engine, hasher, datetime.now(UTC) - timedelta(days=3))
    server = ServerProcess(url, workers=1)
    try:
        base = server.start()
        yield base, library, server
    except BaseException:
        print(f"server log: {server.log_path}\n{server.log()}")
        raise
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def chromium(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(tools.CHROMIUM), headless=True, args=tools.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=["desktop", "phone"])
def context(request, chromium, site):
    """A fresh browser profile (no cookies). axe is injected as a script, which the pages'
    own policy (no script at all) would refuse, hence bypass_csp."""
    options = (
        tools.PHONE if request.param == "phone" else {"viewport": {"width": 1280, "height": 900}}
    )
    context = chromium.new_context(base_url=site[0], locale="sv-SE", bypass_csp=True,
                                   **options)  # fmt: skip
    context.device = request.param
    yield context
    context.close()


def open_page(context, path: str):
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500
            else None)  # fmt: skip
    page.problems = problems
    page.goto(path)
    return page


def check_page(page, name: str, device: str) -> None:
    """No console error or server error, no serious or critical axe violation, nothing
    wider than the screen; and a screenshot for a person to look at."""
    assert page.problems == [], page.problems
    violations = tools.axe_violations(page)
    assert not violations, f"{name} ({device}):\n" + tools.describe_violations(violations)
    assert not tools.overflows_sideways(page), f"{name} ({device}) is wider than the screen"
    assert page.evaluate("document.documentElement.lang") == "sv"
    tools.screenshot(page, f"{name}-{device}")


def log_in(page, library: Library, who: str) -> None:
    page.get_by_label("Lånekortets nummer").fill(library.cards[who].number)
    page.get_by_label("PIN-kod").fill(library.cards[who].pin)
    page.get_by_role("button", name="Logga in").click()


def test_a_visitor_searches_reserves_renews_and_logs_out(context, site):
    _base, library, _server = site
    who = "anna" if context.device == "desktop" else "bertil"
    page = open_page(context, "/")
    check_page(page, "start", context.device)

    # search: upper case and å/ä/ö as typed by someone in a hurry
    page.get_by_label("Sök titel, författare, ämne eller ISBN").fill("RÖDA huset")
    page.get_by_role("button", name="Sök", exact=True).click()
    # expect(...) waits for the answer's page; count() and is_visible() would read
    # whatever page is there (a run once counted the start page's none)
    results = page.locator("ol.results > li")
    expect(results).to_have_count(2)
    expect(page.get_by_role("heading", name="2 träffar för ”RÖDA huset”")).to_be_visible()
    check_page(page, "search", context.device)
    # a facet narrows it to the film (on the phone, the book: each run reserves its own)
    facets = page.get_by_role("navigation", name="Avgränsa sökningen")
    media = "film" if context.device == "desktop" else "book"
    facets.get_by_role("link", name=f"{'Film' if media == 'film' else 'Bok'} (1)").click()
    expect(results).to_have_count(1)
    expect(page).to_have_url(re.compile(f"medietyp={media}"))
    check_page(page, "search-facet", context.device)
    page.get_by_role("link", name="Det röda huset").click()
    expect(page.get_by_role("heading", name="Det röda huset", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Tillgänglig")).to_be_visible()
    check_page(page, "title-anonymous", context.device)

    # sign in from the title page and come back to it
    page.get_by_role("link", name="Logga in för att reservera").click()
    check_page(page, "login", context.device)
    log_in(page, library, who)
    expect(page.get_by_role("heading", name="Det röda huset", level=1)).to_be_visible()
    check_page(page, "title-signed-in", context.device)
    # reserve for pick-up at another municipality's library
    page.get_by_label("Hämtas på").select_option(label="Laxå bibliotek")
    page.get_by_role("button", name="Reservera").click()
    page.wait_for_url("**/mina-sidor")
    expect(page.get_by_role("status")).to_contain_text(
        "Du har reserverat ”Det röda huset”. Du hämtar den på Laxå bibliotek."
    )
    holds = page.get_by_role("table").filter(has_text="Hämtas på")
    assert "Laxå bibliotek" in holds.inner_text()
    check_page(page, "my-page", context.device)

    # renew a loan; Kallocain is refused with the reason, in Swedish
    if who == "anna":
        page.get_by_role("button", name="Förnya ”Det röda huset”").click()
        # the page before had a status too (the reservation's): wait for this one
        expect(page.get_by_role("status")).to_contain_text("”Det röda huset” är förnyad")
        loans = page.get_by_role("table").filter(has_text="Lämnas senast")
        assert "1 gång" in loans.get_by_role("row", name="Det röda huset").inner_text()
    page.get_by_role("button", name="Förnya ”Kallocain”").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "”Kallocain” kunde inte förnyas: andra låntagare har reserverat den"
    )
    check_page(page, "my-page-refused", context.device)

    # sign out: the session is gone
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")
    expect(page.get_by_role("link", name="Logga in", exact=True)).to_be_visible()
    page.goto("/mina-sidor")
    assert page.url.endswith("/logga-in?nasta=%2Fmina-sidor")


def test_other_pages_pass_axe(context, site):
    _base, library, _server = site
    for name, path in [
        ("libraries", "/bibliotek"),
        ("no-hits", "/sok?q=xyzzy"),
        ("empty-search", "/sok"),
        ("not-found", "/titel/999999"),
        ("title-queue", f"/titel/{library.titles['kallocain']}"),
    ]:
        page = open_page(context, path)
        if name == "not-found":
            page.problems = [p for p in page.problems if "404" not in p]
        check_page(page, name, context.device)
        page.close()
    page = open_page(context, "/bibliotek")
    assert page.get_by_role("heading", name="Laxå", level=2).is_visible()
    assert "Laxå bibliotek" in page.inner_text("main")
    assert "Örebro" not in page.inner_text("main")  # not a member; its hub lends nothing
    # a wrong PIN: the error is announced and tied to the fields
    page = open_page(context, "/logga-in")
    page.get_by_label("Lånekortets nummer").fill(library.cards["cecilia"].number)
    page.get_by_label("PIN-kod").fill("0482")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_have_text("Fel kortnummer eller PIN-kod.")
    expect(page.get_by_label("PIN-kod")).to_have_attribute("aria-invalid", "true")
    page.problems = [p for p in page.problems if "401" not in p]
    check_page(page, "login-error", context.device)


def test_keyboard_only(chromium, site):
    """Everything reachable and usable with Tab, Enter, Space and the arrow keys, with a
    visible focus; the skip link goes to the content."""
    base, library, _server = site
    context = chromium.new_context(base_url=base, locale="sv-SE", bypass_csp=True)
    page = context.new_page()
    page.goto("/")
    keys = page.keyboard
    first = tools.tab_to(page, lambda e: True, limit=1)
    assert first["text"] == "Hoppa till innehållet" and first["outline"]
    keys.press("Enter")
    assert page.evaluate("document.activeElement.id") == "innehall"
    field = tools.tab_to(page, lambda e: e["name"] == "q")
    assert field["outline"]
    keys.type("kallocain")
    keys.press("Enter")
    page.wait_for_url("**/sok?q=kallocain")
    link = tools.tab_to(page, lambda e: e["tag"] == "a" and e["text"] == "Kallocain")
    assert link["outline"]
    keys.press("Enter")
    page.wait_for_url(TITLE_PAGE)
    tools.tab_to(page, lambda e: e["text"] == "Logga in för att reservera")
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/logga-in\?nasta="))
    tools.tab_to(page, lambda e: e["name"] == "kort")
    keys.type(library.cards["cecilia"].number)
    keys.press("Tab")
    keys.type(library.cards["cecilia"].pin)
    keys.press("Enter")
    # the title page itself: "**/titel/*" also matched the log-in page's own address
    # (/logga-in?nasta=/titel/6), so the wait could end before the log-in was sent
    page.wait_for_url(TITLE_PAGE)
    # Cecilia already waits for Kallocain: the page says so; go to her page from the menu
    assert "nummer 1 i kön" in page.inner_text("main")
    tools.tab_to(page, lambda e: e["text"] == "Mina sidor", backwards=True)
    keys.press("Enter")
    page.wait_for_url("**/mina-sidor")
    button = tools.tab_to(page, lambda e: e["tag"] == "button" and "Avboka" in e["text"])
    assert button["outline"]
    keys.press("Space")
    # the same address before and after: wait for the answer's message itself
    expect(page.get_by_role("status")).to_have_text("Reservationen är avbokad.")
    # reserve again with the keyboard, choosing the pick-up library with the arrow keys
    page.goto(f"/titel/{library.titles['eden']}")
    tools.tab_to(page, lambda e: e["name"] == "hamtas")
    chosen = page.evaluate("document.activeElement.value")
    keys.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") != chosen
    tools.tab_to(page, lambda e: e["text"] == "Reservera")
    keys.press("Enter")
    page.wait_for_url("**/mina-sidor")
    assert "Du har reserverat ”Öst om Eden”" in page.get_by_role("status").inner_text()
    tools.tab_to(page, lambda e: e["text"] == "Logga ut", backwards=True)
    keys.press("Enter")
    page.wait_for_url(base + "/")
    assert page.get_by_role("status").inner_text() == "Du är utloggad."
    context.close()


def test_the_server_log_holds_no_pin_card_number_or_name(site, chromium):
    """After the flows above (and a wrong PIN), the server's own log — uvicorn's access
    log included — shows none of the visitors' card numbers, PINs or names."""
    base, library, server = site
    context = chromium.new_context(base_url=base)
    page = context.new_page()
    page.goto("/logga-in")
    log_in(page, library, "anna")
    page.goto("/mina-sidor")
    context.close()
    log = server.log()
    assert "GET /mina-sidor" in log  # the access log is there to be searched
    for card in library.cards.values():
        for value in (card.number, card.pin, card.name):
            assert value not in log
