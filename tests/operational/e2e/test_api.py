"""The HTTP API through FastAPI's test client: status codes, reasons and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock
from operational.domain.access import Role
from operational.entrypoints.api import create_app
from operational.service_layer import access
from tests.conftest import local


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(local(2025, 3, 20, 10))  # before the five joined


@pytest.fixture
def client(engine, clock) -> TestClient:
    return TestClient(create_app(engine, clock))


@pytest.fixture
def tokens(engine, clock) -> dict[str, dict[str, str]]:
    headers = {}
    for role in Role:
        secret = access.create_token(SqlAlchemyUnitOfWork(engine), clock, f"t-{role}", role)
        headers[role.value] = {"Authorization": f"Bearer {secret}"}
    return headers


def _title(client, tokens, **extra) -> int:
    body = {
        "title": "Kallocain",
        "author": "Karin Boye",
        "media_type": "book",
        "audience": "adult",
        **extra,
    }
    response = client.post("/api/v1/titles", json=body, headers=tokens["admin"])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _setup_loanable(client, tokens, branch="NORA", municipality="1884"):
    staff = tokens["staff"]
    title_id = _title(client, tokens)
    r = client.post(
        "/api/v1/items",
        json={"barcode": "B-1", "title_id": title_id, "home_branch_code": branch},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/patrons",
        json={
            "card_number": "CARD-1",
            "category": "adult",
            "home_municipality_code": municipality,
            "name": "Karin Test",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    return title_id


def test_lend_and_return_a_book(client, tokens, clock):
    staff = tokens["staff"]
    _setup_loanable(client, tokens)
    r = client.post(
        "/api/v1/loans",
        json={"card_number": "CARD-1", "item_barcode": "B-1", "branch_code": "NORA"},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    loan = r.json()
    assert set(loan) == {"loan_id", "due_at"}
    r = client.post(
        "/api/v1/loans",
        json={"card_number": "CARD-1", "item_barcode": "B-1", "branch_code": "NORA"},
        headers=staff,
    )
    assert r.status_code == 409 and "on_loan" in r.json()["detail"]
    clock.advance(timedelta(days=3))
    r = client.post(f"/api/v1/loans/{loan['loan_id']}/renew", headers=staff)
    assert r.status_code == 200 and r.json()["due_at"] > loan["due_at"]
    r = client.post(
        "/api/v1/returns", json={"item_barcode": "B-1", "branch_code": "LIND"}, headers=staff
    )
    assert r.status_code == 200 and r.json()["action"] == "transport"
    transport_id = r.json()["transport_id"]
    r = client.post(f"/api/v1/transports/{transport_id}/receive", headers=staff)
    assert r.status_code == 409 and "not been dispatched" in r.json()["detail"]
    assert (
        client.post(f"/api/v1/transports/{transport_id}/dispatch", headers=staff).status_code == 200
    )
    r = client.post(f"/api/v1/transports/{transport_id}/receive", headers=staff)
    assert r.status_code == 200 and r.json()["action"] == "shelved"
    r = client.get("/api/v1/patrons/CARD-1/loans", headers=staff)
    assert r.status_code == 200 and r.json()[0]["returned_at"] is not None


def test_403_when_not_a_member_on_that_date(client, tokens):
    _setup_loanable(client, tokens, branch="KUM", municipality="1884")
    r = client.post(
        "/api/v1/loans",
        json={"card_number": "CARD-1", "item_barcode": "B-1", "branch_code": "KUM"},
        headers=tokens["staff"],
    )
    assert r.status_code == 403
    assert "do not share" in r.json()["detail"]


def test_holds_through_the_api(client, tokens):
    staff = tokens["staff"]
    title_id = _setup_loanable(client, tokens)
    r = client.post(
        "/api/v1/holds",
        json={"card_number": "CARD-1", "title_id": title_id, "pickup_branch_code": "NORA"},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    hold = r.json()
    assert hold["status"] == "ready" and hold["item_barcode"] == "B-1"
    r = client.get(f"/api/v1/holds/{hold['hold_id']}", headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "ready"
    r = client.post(f"/api/v1/holds/{hold['hold_id']}/cancel", headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/api/v1/holds/{hold['hold_id']}/cancel", headers=staff)
    assert r.status_code == 409
    assert client.get("/api/v1/holds/999999", headers=staff).status_code == 404


def test_event_feed_for_readers(client, tokens):
    _setup_loanable(client, tokens)
    r = client.get("/api/v1/events", params={"after": 0, "limit": 2}, headers=tokens["reader"])
    assert r.status_code == 200
    page = r.json()
    assert len(page["database_id"]) == 36
    assert [e["id"] for e in page["events"]] == [1, 2] and page["next_after"] == 2
    r = client.get("/api/v1/events", params={"after": 2}, headers=tokens["admin"])
    assert [e["type"] for e in r.json()["events"]] == ["patron_registered"]
    assert "Karin" not in r.text
    r = client.get("/api/v1/events", params={"after": 99}, headers=tokens["reader"])
    assert r.json() == {
        "database_id": page["database_id"],
        "simulation": None,
        "events": [],
        "next_after": 99,
    }


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("reader", "get", "/api/v1/events", True),
        ("staff", "get", "/api/v1/events", False),
        ("reader", "get", "/api/v1/branches", True),
        ("reader", "get", "/api/v1/patrons/CARD-1/loans", False),
        ("staff", "get", "/api/v1/patrons/CARD-1/loans", True),
        ("staff", "post", "/api/v1/titles", False),
        ("reader", "post", "/api/v1/loans", False),
    ],
)
def test_roles(client, tokens, role, method, path, allowed, engine):
    response = getattr(client, method)(
        path, headers=tokens[role], **({"json": {}} if method == "post" else {})
    )
    if allowed:
        assert response.status_code in (200, 404, 422), response.text
    else:
        assert response.status_code == 403
        assert f"role '{role}' may not" in response.json()["detail"]


def test_401_with_a_reason(client, tokens, engine, clock):
    assert client.get("/api/v1/branches").status_code == 401
    r = client.get("/api/v1/branches", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["detail"] == "unknown token"
    assert r.headers["www-authenticate"] == "Bearer"
    access.revoke_token(SqlAlchemyUnitOfWork(engine), clock, "t-reader")
    r = client.get("/api/v1/branches", headers=tokens["reader"])
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    secret = access.create_token(SqlAlchemyUnitOfWork(engine), clock, "short", Role.READER, 1)
    clock.advance(timedelta(days=2))
    r = client.get("/api/v1/branches", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"card_number": "CARD-1", "item_barcode": "B-1"},
        {"card_number": "CARD-1", "item_barcode": "B-1", "branch_code": "NORA", "x": 1},
        {"card_number": "", "item_barcode": "B-1", "branch_code": "NORA"},
        {"card_number": "CARD-1", "item_barcode": "B 1; drop", "branch_code": "NORA"},
        {"card_number": 12345678, "item_barcode": "B-1", "branch_code": "NORA"},
    ],
)
def test_malformed_input_is_422_with_the_field(client, tokens, body):
    r = client.post("/api/v1/loans", json=body, headers=tokens["staff"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "body"


def test_unknown_things_are_404_and_bad_references_422(client, tokens):
    staff = tokens["staff"]
    r = client.post(
        "/api/v1/loans",
        json={"card_number": "NOPE", "item_barcode": "B-1", "branch_code": "NORA"},
        headers=staff,
    )
    assert r.status_code == 404 and "NOPE" in r.json()["detail"]
    r = client.post(
        "/api/v1/patrons",
        json={"card_number": "CARD-9", "category": "adult", "home_municipality_code": "9999"},
        headers=staff,
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "home_municipality_code"]
    assert "9999" in r.json()["detail"][0]["msg"]
    r = client.post("/api/v1/loans/2147483647/renew", headers=staff)
    assert r.status_code == 404
    r = client.post("/api/v1/loans/2147483648/renew", headers=staff)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/returns", json={"item_barcode": "B-1", "branch_code": "OREB-HUB"}, headers=staff
    )
    assert r.status_code == 422 and "hub" in r.json()["detail"][0]["msg"]
    assert r.json()["detail"][0]["loc"] == ["body", "branch_code"]
    r = client.post(
        "/api/v1/returns",
        content=b"\xff\xfe<",
        headers={**staff, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/v1/loans" in client.get("/openapi.json").json()["paths"]


def test_repeated_bad_tokens_are_refused_for_a_while(client, tokens):
    bad = {"Authorization": "Bearer guess"}
    statuses = [client.get("/api/v1/branches", headers=bad).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    refused = client.get("/api/v1/branches", headers=tokens["reader"])
    assert refused.status_code == 429  # the same client, even with a good token now
    assert int(refused.headers["retry-after"]) > 0
    assert "too many failed authentication attempts" in refused.json()["detail"]
