"""Fuzzing the API from its own OpenAPI schema: schemathesis against a real `bibbla serve`
with an admin token, over a database seeded so that the schema's examples (CARD-1, B-1,
loan 1, …) name things that exist. Every endpoint must answer at least once with a 2xx,
none with a 5xx, and no answer may fall outside the schema, over 1 000+ requests.

One schemathesis check is left out: `positive_data_acceptance` expects any schema-valid
body to be accepted, but the API rightly answers 422 for well-formed values that name
nothing (an unknown municipality or collection code), with the field at fault.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter, defaultdict
from urllib.parse import urlsplit

import httpx
import pytest

from bibbla.config import PROJECT_ROOT
from operational.adapters import schema as database
from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access, services
from tests.conftest import REFERENCE_DIR
from tests.operational.desk import Desk
from tests.server import running_server
from tests.stress import scaled

pytestmark = pytest.mark.slow
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
]


def seed(engine) -> str:
    """The things the schema's examples name, with the ids they name; returns a token."""
    desk = Desk(engine, SystemClock())
    clock = desk.clock

    def uow():
        return SqlAlchemyUnitOfWork(engine)

    titles = [desk.title() for _ in range(3)]  # ids 1, 2, 3
    for barcode, title, branch in [
        ("B-1", 0, "NORA"),
        ("B-2", 0, "NORA"),
        ("B-3", 0, "NORA"),
        ("B-4", 2, "KUM"),
        ("B-5", 2, "KUM"),
        ("B-6", 1, "LIND"),
    ]:
        services.add_item(uow(), clock, barcode, titles[title], branch)
    for card in ("CARD-1", "CARD-2", "CARD-3"):
        services.register_patron(uow(), clock, card, "1884", "adult")
    services.checkout(uow(), clock, "CARD-2", "B-2", "NORA")  # loan 1: renewable
    services.checkout(uow(), clock, "CARD-2", "B-3", "NORA")  # B-3 can be returned
    services.checkout(uow(), clock, "CARD-3", "B-4", "KUM")
    services.checkout(uow(), clock, "CARD-3", "B-5", "KUM")
    services.checkin(uow(), clock, "B-4", "NORA")  # transport 1: to be dispatched
    services.checkin(uow(), clock, "B-5", "NORA")  # transport 2: dispatched, to be received
    services.dispatch_transport(uow(), clock, 2)
    services.place_hold(uow(), clock, "CARD-1", titles[2], "NORA")  # hold 1
    services.place_hold(uow(), clock, "CARD-2", titles[2], "NORA")  # hold 2: cancellable
    return access.create_token(uow(), clock, "fuzz", Role.ADMIN)


def test_fuzzing_the_api_finds_no_server_error_and_no_schema_violation(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fuzz.sqlite'}"
    engine = create_database_engine(url)
    database.init(engine, REFERENCE_DIR)
    token = seed(engine)
    engine.dispose()
    # The fuzzer sends many requests without a token on purpose: don't throttle it.
    monkeypatch.setenv("BIBBLA_API_FAILED_AUTH_LIMIT", "1000000/minute")
    report = tmp_path / "schemathesis.har"
    with running_server(url, workers=2) as base:
        (tmp_path / "openapi.json").write_text(httpx.get(f"{base}/openapi.json").text)
        result = subprocess.run(
            [
                str(PROJECT_ROOT / ".venv" / "bin" / "st"),
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(scaled(60, 300)),
                "--seed",
                "20261129",
                "--generation-database",
                "none",
                "--workers",
                "1",
                "--report",
                "har",
                "--report-har-path",
                str(report),
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    operations = json.loads((tmp_path / "openapi.json").read_text())["paths"]
    statuses = _statuses_by_operation(json.loads(report.read_text()), operations)
    assert len(statuses) == sum(len(methods) for methods in operations.values()), statuses
    cases = sum(sum(seen.values()) for seen in statuses.values())
    assert cases >= 1000, (cases, output[-2000:])
    assert [op for op, seen in statuses.items() if not any(200 <= c < 300 for c in seen)] == []
    assert not any(code >= 500 for seen in statuses.values() for code in seen)


def _statuses_by_operation(har: dict, paths: dict) -> dict[str, Counter]:
    """Status codes answered per operation ("POST /api/v1/loans/{loan_id}/renew"), from
    the requests schemathesis recorded (HAR)."""
    templates = [
        (
            method.upper(),
            path,
            re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"),
        )
        for path, methods in paths.items()
        for method in methods
    ]
    statuses: dict[str, Counter] = defaultdict(Counter)
    for entry in har["log"]["entries"]:
        method, path = entry["request"]["method"], urlsplit(entry["request"]["url"]).path
        for wanted, template, pattern in templates:
            if method == wanted and pattern.match(path):
                statuses[f"{method} {template}"][entry["response"]["status"]] += 1
                break
    return statuses
