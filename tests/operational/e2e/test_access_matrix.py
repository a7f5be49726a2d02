"""Every endpoint against every kind of caller: no token, a bad, an expired and a revoked
token (401 with a reason), and each role (403 with a reason where docs/domain.md's table says
the role may not). A new endpoint must be added here before this test passes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock
from operational.domain.access import Permission, Role, role_allows
from operational.entrypoints.api import create_app
from operational.service_layer import access
from tests.conftest import local

# (method, path) → the permission it needs (docs/domain.md's role table).
ENDPOINTS = {
    ("GET", "/api/v1/branches"): Permission.READ_BRANCHES,
    ("POST", "/api/v1/patrons"): Permission.REGISTER_PATRONS,
    ("POST", "/api/v1/patrons/pin"): Permission.REGISTER_PATRONS,
    ("POST", "/api/v1/titles"): Permission.MANAGE_CATALOGUE,
    ("POST", "/api/v1/items"): Permission.ADD_ITEMS,
    ("POST", "/api/v1/loans"): Permission.CIRCULATION,
    ("POST", "/api/v1/loans/{loan_id}/renew"): Permission.CIRCULATION,
    ("POST", "/api/v1/returns"): Permission.CIRCULATION,
    ("POST", "/api/v1/holds"): Permission.CIRCULATION,
    ("GET", "/api/v1/holds/{hold_id}"): Permission.CIRCULATION,
    ("POST", "/api/v1/holds/{hold_id}/cancel"): Permission.CIRCULATION,
    ("GET", "/api/v1/transports"): Permission.CIRCULATION,
    ("POST", "/api/v1/transports/{transport_id}/dispatch"): Permission.CIRCULATION,
    ("POST", "/api/v1/transports/{transport_id}/receive"): Permission.CIRCULATION,
    ("GET", "/api/v1/patrons/{card_number}/loans"): Permission.READ_PATRON_LOANS,
    ("POST", "/api/v1/memberships"): Permission.MANAGE_MEMBERSHIP,
    ("GET", "/api/v1/events"): Permission.READ_FEED,
}
PATH_VALUES = {"loan_id": "1", "hold_id": "1", "transport_id": "1", "card_number": "CARD-1"}


@pytest.fixture
def setup(sqlite_engine):
    clock = SimulatedClock(local(2025, 6, 2, 10))
    client = TestClient(create_app(sqlite_engine, clock, failed_auth_limit="100000/minute"))
    headers = {}
    for role in Role:
        secret = access.create_token(SqlAlchemyUnitOfWork(sqlite_engine), clock, role, role)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    expiring = access.create_token(SqlAlchemyUnitOfWork(sqlite_engine), clock, "e", Role.ADMIN, 1)
    revoked = access.create_token(SqlAlchemyUnitOfWork(sqlite_engine), clock, "r", Role.ADMIN)
    access.revoke_token(SqlAlchemyUnitOfWork(sqlite_engine), clock, "r")
    clock.advance(timedelta(days=2))
    invalid = {
        "no token": ({}, "missing bearer token"),
        "bad token": ({"Authorization": "Bearer not-a-token"}, "unknown token"),
        "expired token": ({"Authorization": f"Bearer {expiring}"}, "expired"),
        "revoked token": ({"Authorization": f"Bearer {revoked}"}, "revoked"),
        "not bearer": ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
    }
    return client, headers, invalid


def _call(client, method: str, path: str, headers: dict):
    url = path.format(**PATH_VALUES)
    return client.request(method, url, headers=headers, json={} if method == "POST" else None)


def test_the_matrix_covers_every_endpoint(setup):
    client, _, _ = setup
    routes = {
        (method.upper(), path)
        for path, operations in client.app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == set(ENDPOINTS)


@pytest.mark.parametrize(("method", "path"), sorted(ENDPOINTS))
def test_invalid_credentials_are_401_with_a_reason(setup, method, path):
    client, _, invalid = setup
    for name, (headers, reason) in invalid.items():
        response = _call(client, method, path, headers)
        assert response.status_code == 401, (name, response.text)
        assert reason in response.json()["detail"], name
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), sorted(ENDPOINTS))
def test_each_role_is_allowed_or_refused_as_the_table_says(setup, method, path):
    client, headers, _ = setup
    for role in Role:
        response = _call(client, method, path, headers[role])
        if role_allows(role, ENDPOINTS[(method, path)]):
            # Allowed through: what follows is the request's own answer (200, 404, 422 ...).
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500
        else:
            assert response.status_code == 403, (role, response.text)
            assert f"role '{role}' may not" in response.json()["detail"]


def test_tokens_are_stored_only_as_hashes(sqlite_engine):
    from sqlalchemy import select

    from operational.adapters import tables

    clock = SimulatedClock(local(2025, 6, 2, 10))
    secret = access.create_token(SqlAlchemyUnitOfWork(sqlite_engine), clock, "h", Role.STAFF)
    with sqlite_engine.connect() as c:
        stored = c.execute(select(tables.api_token)).one()
    assert secret not in repr(tuple(stored))
    assert len(stored.token_hash) == 64 and stored.token_hash != secret
