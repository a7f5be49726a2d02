"""The visitors' web's security, through HTTP: one patron's session shows nobody else's
data and cannot act on it; every state-changing form needs its CSRF token; failed log-ins
are throttled per card and per client; the PIN is never stored, logged or published, and
no personal data goes into a URL; cookies and headers are as they should be."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from operational.adapters import tables
from operational.domain.access import Role
from operational.service_layer import access
from tests.web.conftest import Browser, make_app

_LINKS = re.compile(r'(?:href|action)="([^"]*)"')


def personal(library) -> list[str]:
    return [v for card in library.cards.values() for v in (card.number, card.name, card.pin)]


def test_a_session_shows_only_its_own_patrons_loans_and_holds(library, app):
    anna, bertil = Browser(app), Browser(app)
    anna.log_in(library.cards["anna"].number, library.cards["anna"].pin)
    bertil.log_in(library.cards["bertil"].number, library.cards["bertil"].pin)
    anna_page, bertil_page = anna.get("/mina-sidor").text, bertil.get("/mina-sidor").text
    assert "Det röda huset" in anna_page and "Det röda huset" not in bertil_page
    assert "Anna Testsson" in anna_page and "Anna Testsson" not in bertil_page
    assert library.cards["anna"].number not in anna_page  # masked even to herself
    assert "•••• " + library.cards["anna"].number[-4:] in anna_page
    assert "Bertil" not in anna_page
    # Bertil posts Anna's loan and Cecilia's hold with his own valid token: refused
    before = library.event_count()
    renewed = bertil.post_form("/mina-sidor", f"/mina-sidor/lan/{library.loans['huset']}/fornya")
    assert "finns inte" in renewed.text
    cancelled = bertil.post_form(
        "/mina-sidor",
        f"/mina-sidor/reservationer/{library.holds['kallocain_cecilia']}/avboka",
    )
    assert "finns inte" in cancelled.text
    assert library.event_count() == before
    # Anna's own renewal works through the same form
    anna.post_form("/mina-sidor", f"/mina-sidor/lan/{library.loans['huset']}/fornya")
    assert library.event_types()[-1] == "renew"


def test_mina_sidor_needs_a_live_session(library, app):
    anonymous = Browser(app)
    page = anonymous.get("/mina-sidor")
    assert page.url.path == "/logga-in" and "Logga in" in page.text
    forged = Browser(app)
    forged.client.cookies.set("bibbla_session", "made-up-secret")
    assert forged.get("/mina-sidor").url.path == "/logga-in"
    # a logged-out session's cookie, replayed, is worth nothing
    anna = Browser(app)
    anna.log_in(library.cards["anna"].number, library.cards["anna"].pin)
    secret = anna.client.cookies.get("bibbla_session")
    anna.post_form("/mina-sidor", "/logga-ut")
    replay = Browser(app)
    replay.client.cookies.set("bibbla_session", secret)
    assert replay.get("/mina-sidor").url.path == "/logga-in"


@pytest.mark.parametrize("token", ["missing", "another session's", "garbled"])
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(library, app, token):
    anna, bertil = Browser(app), Browser(app)
    anna.log_in(library.cards["anna"].number, library.cards["anna"].pin)
    bertil.log_in(library.cards["bertil"].number, library.cards["bertil"].pin)
    data = {
        "missing": {},
        "another session's": {"csrf_token": bertil.csrf(bertil.get("/mina-sidor"))},
        "garbled": {"csrf_token": "x" * 64},
    }[token]
    before = library.event_count()
    forms = [
        (f"/mina-sidor/lan/{library.loans['huset']}/fornya", {}),
        (f"/titel/{library.titles['eden']}/reservera", {"hamtas": "NORA"}),
        (f"/mina-sidor/reservationer/{library.holds['kallocain_cecilia']}/avboka", {}),
        ("/logga-ut", {}),
    ]
    for action, extra in forms:
        answer = anna.client.post(action, data={**data, **extra})
        assert answer.status_code == 403, action
        assert "Formuläret gick inte att skicka" in answer.text
    assert library.event_count() == before
    assert anna.get("/mina-sidor").url.path == "/mina-sidor"  # still signed in


def test_the_log_in_form_needs_its_csrf_token_too(library, app):
    browser = Browser(app)
    browser.get("/logga-in")  # sets the pre-log-in CSRF cookie
    card = library.cards["anna"]
    for token in (None, "y" * 43):
        data = {"kort": card.number, "pin": card.pin}
        if token:
            data["csrf_token"] = token
        answer = browser.client.post("/logga-in", data=data)
        assert answer.status_code == 403
    assert "bibbla_session" not in browser.client.cookies


def test_wrong_pins_are_throttled_per_card(library, hasher):
    app = make_app(library, hasher, failed_logins_per_card="5/15 minutes")
    browser = Browser(app)
    card = library.cards["anna"]
    for _ in range(5):
        assert browser.log_in(card.number, "0482").status_code == 401
    throttled = browser.log_in(card.number, card.pin)  # even the right PIN now
    assert throttled.status_code == 429
    assert "För många misslyckade inloggningar" in throttled.text
    assert int(throttled.headers["Retry-After"]) > 0
    assert "bibbla_session" not in browser.client.cookies
    # another card from the same client is not locked by Anna's card's failures
    bertil = library.cards["bertil"]
    assert browser.log_in(bertil.number, bertil.pin).url.path == "/mina-sidor"


def test_wrong_pins_are_throttled_per_client_across_cards(library, hasher):
    app = make_app(library, hasher, failed_logins_per_client="4/10 minutes")
    browser = Browser(app)
    for index in range(4):
        assert browser.log_in(f"1884-99999{index:02d}", "0482").status_code == 401
    card = library.cards["anna"]
    assert browser.log_in(card.number, card.pin).status_code == 429


def test_the_pin_never_reaches_the_database_the_logs_or_the_feed(library, hasher, caplog, engine):
    caplog.set_level(logging.DEBUG)
    app = make_app(library, hasher)
    secret = access.create_token(library.uow(), library.clock, "desk", Role.ADMIN)
    staff = Browser(app)
    staff.client.headers["Authorization"] = f"Bearer {secret}"
    new_pin = "6174"
    answer = staff.client.post(
        "/api/v1/patrons/pin",
        json={"card_number": library.cards["anna"].number, "pin": new_pin},
    )
    assert answer.status_code == 204
    visitor = Browser(app)
    assert visitor.log_in(library.cards["anna"].number, "0482").status_code == 401
    assert visitor.log_in(library.cards["anna"].number, new_pin).url.path == "/mina-sidor"
    visitor.post_form(
        f"/titel/{library.titles['eden']}",
        f"/titel/{library.titles['eden']}/reservera",
        {"hamtas": "LIND"},
    )
    pins = [new_pin, *(card.pin for card in library.cards.values())]
    # the database: every cell of every table, as text
    cells = _every_cell(engine)
    assert cells, "the scan read nothing"
    for pin in pins:
        assert not [c for c in cells if c == pin or f"pin={pin}" in c or f'"{pin}"' in c]
    with engine.connect() as c:
        hashes = c.execute(select(tables.patron_pin.c.pin_hash)).scalars().all()
    # the logs
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in [*pins, *hashes, library.cards["anna"].number]:
        assert value not in logged
    # the event feed (read as the warehouse reads it)
    feed = staff.get("/api/v1/events?after=0&limit=10000").text
    assert feed.count('"type"') == library.event_count()
    for value in [*pins, *hashes]:
        assert value not in feed
    assert "pin" not in feed.lower().replace("pickup", "")


def _every_cell(engine) -> list[str]:
    cells = []
    with engine.connect() as c:
        for table in inspect(c).get_table_names():
            if table.startswith("title_search_"):
                continue  # FTS5's shadow tables hold the same text in binary form
            for row in c.execute(text(f'SELECT * FROM "{table}"')):
                cells += [str(value) for value in row if value is not None]
    return cells


def test_no_personal_data_in_any_url(library, app):
    browser = Browser(app)
    card = library.cards["anna"]
    locations = []
    answer = browser.log_in(card.number, card.pin, follow_redirects=False)
    locations.append(answer.headers["location"])
    pages = [
        browser.get(path)
        for path in (
            "/",
            "/mina-sidor",
            f"/titel/{library.titles['kallocain']}",
            "/bibliotek",
            "/sok?q=huset",
        )
    ]
    renewed = browser.post_form(
        "/mina-sidor",
        f"/mina-sidor/lan/{library.loans['kallocain']}/fornya",
        follow_redirects=False,
    )
    locations.append(renewed.headers["location"])
    urls = locations + [str(page.url) for page in pages]
    urls += [link for page in pages for link in _LINKS.findall(page.text)]
    for value in personal(library):
        assert not [url for url in urls if value in url], value


def test_cookies_are_httponly_lax_and_secure_over_tls(library, hasher):
    card = library.cards["anna"]
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        browser = Browser(make_app(library, hasher), base_url=base)
        answer = browser.log_in(card.number, card.pin, follow_redirects=False)
        session = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("bibbla_session=")
        )
        flags = {part.strip().lower() for part in session.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= flags
        assert ("secure" in flags) == secure
        assert not any(flag.startswith(("max-age", "expires")) for flag in flags)


def test_pages_send_protective_headers(library, app):
    browser = Browser(app)
    start = browser.get("/")
    assert "script-src 'none'" in start.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in start.headers["content-security-policy"]
    assert start.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in start.headers  # a public page may be cached
    browser.log_in(library.cards["anna"].number, library.cards["anna"].pin)
    assert browser.get("/mina-sidor").headers["cache-control"] == "no-store"
    assert browser.get("/").headers["cache-control"] == "no-store"  # signed in: private


def test_after_log_in_only_a_path_of_this_site_is_followed(library, app):
    card = library.cards["anna"]
    for target, expected in [
        ("/titel/1", "/titel/1"),
        ("//evil.example/", "/mina-sidor"),
        ("https://evil.example/", "/mina-sidor"),
        ("/\\evil.example", "/mina-sidor"),
    ]:
        browser = Browser(app)
        page = browser.get("/logga-in")
        answer = browser.client.post(
            "/logga-in",
            data={
                "csrf_token": browser.csrf(page),
                "kort": card.number,
                "pin": card.pin,
                "nasta": target,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected


def test_the_staff_api_sets_pins_with_the_right_role_only(library, hasher):
    app = make_app(library, hasher)
    reader = access.create_token(library.uow(), library.clock, "feed", Role.READER)
    staff = access.create_token(library.uow(), library.clock, "desk", Role.STAFF)
    client = Browser(app).client
    body = {"card_number": library.cards["bertil"].number, "pin": "5937"}
    answer = client.post(
        "/api/v1/patrons/pin", json=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert answer.status_code == 403
    weak = client.post(
        "/api/v1/patrons/pin",
        json={**body, "pin": "1234"},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert weak.status_code == 422 and "straight run" in weak.text
    assert weak.json()["detail"][0]["loc"] == ["body", "pin"]
    ok = client.post("/api/v1/patrons/pin", json=body, headers={"Authorization": f"Bearer {staff}"})
    assert ok.status_code == 204
    assert Browser(app).log_in(body["card_number"], "5937").url.path == "/mina-sidor"
    assert "/api/v1/patrons/pin" in app.openapi()["paths"]
    assert not [p for p in app.openapi()["paths"] if not p.startswith("/api/")]


def test_staff_set_a_pin_with_the_command_line(library, hasher, database_url):
    from bibbla.cli import app as cli

    card = library.cards["cecilia"].number
    result = CliRunner().invoke(
        cli, ["patron", "set-pin", card, "--pin-stdin", "--db", database_url], input="8053\n"
    )
    assert result.exit_code == 0, result.output
    assert "8053" not in result.output
    web = Browser(make_app(library, hasher))
    assert web.log_in(card, "8053").url.path == "/mina-sidor"
    weak = CliRunner().invoke(
        cli, ["patron", "set-pin", card, "--pin-stdin", "--db", database_url], input="1111\n"
    )
    assert weak.exit_code == 1 and "one digit repeated" in weak.output


def test_what_a_visitor_types_is_shown_as_text_never_as_markup(library, app):
    page = Browser(app).get("/sok", params={"q": '<script>alert("x")</script> huset'})
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_nothing_changes_on_a_get(library, app):
    browser = Browser(app)
    browser.log_in(library.cards["anna"].number, library.cards["anna"].pin)
    before = library.event_count()
    for path in (
        "/logga-ut",
        f"/mina-sidor/lan/{library.loans['huset']}/fornya",
        f"/titel/{library.titles['eden']}/reservera",
    ):
        assert browser.get(path).status_code in (404, 405)
    assert library.event_count() == before
    assert browser.get("/mina-sidor").url.path == "/mina-sidor"  # still signed in


def test_the_demo_card_is_a_busy_simulated_borrower_with_a_fresh_pin(library, hasher, database_url):
    from bibbla.cli import app as cli
    from operational.service_layer import visitors

    reading = lambda: library.uow().__class__(library.engine, read_only=True)  # noqa: E731
    assert visitors.demo_card(reading()) == library.cards["anna"].number  # two loans
    refused = CliRunner().invoke(cli, ["patron", "demo-card", "--db", database_url])
    assert refused.exit_code == 1 and "not filled by `bibbla simulate`" in refused.output
    with library.engine.begin() as c:
        c.execute(
            tables.simulation_run.insert().values(
                seed=1,
                scale=0.01,
                start_date=library.clock.now().date(),
                end_date=library.clock.now().date(),
                scenario="baseline",
                parameters={},
                created_at=library.clock.now(),
                updated_at=library.clock.now(),
            )
        )
    result = CliRunner().invoke(cli, ["patron", "demo-card", "--db", database_url])
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    card, pin = re.fullmatch(r"card number (\S+)  PIN (\d{4})", line).groups()
    assert card == library.cards["anna"].number
    assert Browser(make_app(library, hasher)).log_in(card, pin).url.path == "/mina-sidor"
