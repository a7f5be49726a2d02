"""Fixtures for the visitors' web: a small library made through the lending core's own use
cases (a few titles with copies in several municipalities, patrons with PINs, loans and a
queue), and a test client that signs in and posts forms with their CSRF tokens.

Everything here is cheap (a database per test, built in well under a second but for the
PIN hashes, ~40 ms each); only the browser tests (test_browser.py) start a server, once
per module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from operational.adapters import tables
from operational.adapters.pin_hashing import Argon2PinHasher
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock, SystemClock
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.entrypoints.api import create_app
from operational.entrypoints.web import WebSettings
from operational.service_layer import services, visitors

NORA, LINDESBERG, LAXA = "1884", "1885", "1860"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Card:
    number: str
    pin: str
    name: str


@dataclass
class Library:
    """What the small library holds, by name, for the tests to refer to."""

    engine: Engine
    clock: SimulatedClock
    titles: dict[str, int] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)  # barcode by name
    cards: dict[str, Card] = field(default_factory=dict)
    loans: dict[str, int] = field(default_factory=dict)
    holds: dict[str, int] = field(default_factory=dict)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)

    def event_count(self) -> int:
        with self.engine.connect() as c:
            return c.execute(select(func.count()).select_from(tables.circulation_event)).scalar()

    def event_types(self) -> list[str]:
        with self.engine.connect() as c:
            return list(
                c.execute(
                    select(tables.circulation_event.c.type).order_by(tables.circulation_event.c.id)
                ).scalars()
            )


TITLES = [
    # name, title, author, media type, audience, language, isbn, year, copies (branch codes)
    (
        "huset",
        "Det röda huset",
        "Selma Lagerlöf",
        "book",
        "adult",
        "sv",
        "978-91-00123-45-6",
        1998,
        ["NORA", "LIND"],
    ),
    ("eden", "Öst om Eden", "John Steinbeck", "book", "adult", "sv", None, 1952, ["LAXA"]),
    ("osten", "Osten och råttan", "Åsa Öberg", "book", "child", "sv", None, 2019, ["NORA"]),
    ("huset_film", "Det röda huset", "Per Filmare", "film", "adult", "sv", None, 2021, ["LIND"]),
    ("huset_en", "The red house", "Mark Haddon", "book", "adult", "en", None, 2012, ["KUM"]),
    ("kallocain", "Kallocain", "Karin Boye", "book", "adult", "sv", None, 1940, ["NORA", "NORA"]),
]


def build_library(engine: Engine, hasher: Argon2PinHasher, start: datetime) -> Library:
    """The small library, made through the use cases with a clock at `start` (loans due
    some weeks after it)."""
    clock = SimulatedClock(start)
    library = Library(engine, clock)
    number = 0
    for name, title, author, media, audience, language, isbn, year, branches in TITLES:
        record = services.add_title(
            library.uow(),
            clock,
            title,
            author,
            MediaType(media),
            Audience(audience),
            isbn=isbn,
            year=year,
            language=language,
        )
        library.titles[name] = record.id
        for copy, branch in enumerate(branches, start=1):
            number += 1
            barcode = f"B{number:04d}"
            services.add_item(library.uow(), clock, barcode, record.id, branch)
            library.items[f"{name}{copy}"] = barcode
    people = [
        ("anna", "1884-0000101", NORA, "Anna Testsson", "4821"),
        ("bertil", "1885-0000202", LINDESBERG, "Bertil Provsson", "7350"),
        ("cecilia", "1860-0000303", LAXA, "Cecilia Exempel", "2468"),
    ]
    for name, card, home, person, pin in people:
        services.register_patron(
            library.uow(), clock, card, home, PatronCategory.ADULT, name=person
        )
        visitors.set_pin(library.uow(), clock, hasher, card, pin)
        library.cards[name] = Card(card, pin, person)
    anna, bertil = library.cards["anna"].number, library.cards["bertil"].number
    # Anna borrows Det röda huset and Kallocain in Nora, Bertil the other Kallocain; then
    # Cecilia (Laxå) reserves Kallocain, so Anna's Kallocain cannot be renewed.
    library.loans["huset"] = services.checkout(
        library.uow(), clock, anna, library.items["huset1"], "NORA"
    ).id
    library.loans["kallocain"] = services.checkout(
        library.uow(), clock, anna, library.items["kallocain1"], "NORA"
    ).id
    library.loans["kallocain_bertil"] = services.checkout(
        library.uow(), clock, bertil, library.items["kallocain2"], "NORA"
    ).id
    library.holds["kallocain_cecilia"] = services.place_hold(
        library.uow(),
        clock,
        library.cards["cecilia"].number,
        library.titles["kallocain"],
        "LAXA",
    ).id
    return library


@pytest.fixture(scope="session")
def hasher() -> Argon2PinHasher:
    return Argon2PinHasher()


@pytest.fixture
def library(engine, hasher) -> Library:
    """The small library on each backend, made three days ago."""
    return build_library(engine, hasher, datetime.now(UTC) - timedelta(days=3))


class Browser:
    """A TestClient that keeps its cookies, signs in, and posts forms with the CSRF token
    of the page they are on."""

    def __init__(self, app, base_url: str = "http://testserver"):
        self.client = TestClient(app, base_url=base_url, follow_redirects=True)

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    @staticmethod
    def csrf(page) -> str:
        found = _CSRF.search(page.text)
        assert found, "the page has no form with a CSRF token"
        return found.group(1)

    def log_in(self, card: str, pin: str, **kw):
        page = self.get("/logga-in")
        return self.client.post(
            "/logga-in",
            data={"csrf_token": self.csrf(page), "kort": card, "pin": pin, "nasta": "/mina-sidor"},
            **kw,
        )

    def post_form(self, page_path: str, action: str, data: dict | None = None, **kw):
        """Post to action with the CSRF token from page_path (as a browser would)."""
        token = self.csrf(self.get(page_path))
        return self.client.post(action, data={"csrf_token": token, **(data or {})}, **kw)


def make_app(library: Library, hasher: Argon2PinHasher, clock=None, **settings):
    return create_app(
        library.engine,
        clock or SystemClock(),
        failed_auth_limit="10/minute",
        web_settings=WebSettings(**settings),
        pin_hasher=hasher,
    )


@pytest.fixture
def app(library, hasher):
    return make_app(library, hasher)


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app)
