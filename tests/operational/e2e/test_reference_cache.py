"""The API worker's reference data in memory (adapters/reference_cache.py): a change to
membership or circulation rules, made elsewhere, is seen by the very next request, and
while nothing changes the requests do not read those tables again."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from operational.adapters import schema
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock
from operational.domain.access import Role
from operational.entrypoints.api import create_app
from operational.service_layer import access, services
from tests.conftest import REFERENCE_DIR, local
from tests.operational.desk import Desk

LAXA = "1860"  # joins on 2025-04-01


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(local(2025, 3, 20, 10))  # before Laxå joins


@pytest.fixture
def client(engine, clock) -> TestClient:
    return TestClient(create_app(engine, clock))


@pytest.fixture
def staff(engine, clock) -> dict[str, str]:
    secret = access.create_token(SqlAlchemyUnitOfWork(engine), clock, "desk", Role.STAFF)
    return {"Authorization": f"Bearer {secret}"}


def _checkout(client, staff, card, barcode, branch="NORA"):
    body = {"card_number": card, "item_barcode": barcode, "branch_code": branch}
    return client.post("/api/v1/loans", json=body, headers=staff)


def test_a_membership_change_is_seen_by_the_next_request(engine, clock, client, staff):
    desk = Desk(engine, clock)
    card, barcode = desk.patron(LAXA), desk.item(desk.title(), "NORA")
    refused = _checkout(client, staff, card, barcode)  # the worker now holds the timeline
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "NotPermitted"

    # Laxå joins three weeks early, through the use case (`bibbla`'s or POST /memberships).
    services.change_membership(SqlAlchemyUnitOfWork(engine), clock, LAXA, date(2025, 3, 1))

    lent = _checkout(client, staff, card, barcode)
    assert lent.status_code == 201, lent.text


def test_leaving_is_seen_by_the_next_request_too(engine, clock, client, staff):
    desk = Desk(engine, clock)
    card = desk.patron("1884")  # Nora's patron at Lindesberg's library: both founders
    first, second = (desk.item(desk.title(), "LIND") for _ in range(2))
    assert _checkout(client, staff, card, first, "LIND").status_code == 201
    services.change_membership(
        SqlAlchemyUnitOfWork(engine), clock, "1885", date(2016, 1, 1), date(2025, 3, 1)
    )
    refused = _checkout(client, staff, card, second, "LIND")
    assert refused.status_code == 403, refused.text


def test_a_rule_change_loaded_from_the_reference_files_is_seen_by_the_next_request(
    engine, clock, client, staff, tmp_path
):
    desk = Desk(engine, clock)
    card, barcode = desk.patron("1884"), desk.item(desk.title(), "NORA")
    lent = _checkout(client, staff, card, barcode)
    assert lent.status_code == 201, lent.text
    assert _due_in(lent, clock) == timedelta(days=28)
    returned = client.post(
        "/api/v1/returns", json={"item_barcode": barcode, "branch_code": "NORA"}, headers=staff
    )
    assert returned.status_code == 200, returned.text

    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, folder)
    _set_loan_days(folder / "circulation_rules.csv", "book", "adult", 14)
    schema.init(engine, folder)  # what `bibbla db init` does with the new files

    lent = _checkout(client, staff, card, barcode)
    assert lent.status_code == 201, lent.text
    assert _due_in(lent, clock) == timedelta(days=14)


def test_while_nothing_changes_requests_do_not_read_the_reference_tables(
    engine, clock, client, staff
):
    desk = Desk(engine, clock)
    card = desk.patron("1884")
    barcodes = [desk.item(desk.title(), "NORA") for _ in range(3)]
    assert _checkout(client, staff, card, barcodes[0]).status_code == 201  # fills the cache
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for barcode in barcodes[1:]:
            assert _checkout(client, staff, card, barcode).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    reference_tables = ("membership", "branch", "van_route", "circulation_rule", "collection")
    reads = [s for s in statements if any(f"FROM {t}" in s for t in reference_tables)]
    assert reads == []
    assert sum("FROM reference_version" in s for s in statements) == 2  # one per checkout


def _due_in(answer, clock) -> timedelta:
    due = datetime.fromisoformat(answer.json()["due_at"])
    return due.date() - clock.now().astimezone(due.tzinfo).date()


def _set_loan_days(path, media_type: str, category: str, days: int) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if (row["media_type"], row["patron_category"]) == (media_type, category):
            row["loan_days"] = str(days)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
