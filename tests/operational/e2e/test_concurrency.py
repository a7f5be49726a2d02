"""Concurrent requests against a real server with several worker processes, released
together by a barrier: the rules and the feed must hold under contention."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from operational.adapters import tables
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.server import running_server

pytestmark = pytest.mark.slow
CLIENTS = 50
MEMBER_BRANCHES = ["NORA", "LIND", "LIND-FEL", "HALL", "KOPP", "ASK", "HBG", "KUM", "LAXA", "LEKE"]


@pytest.fixture
def server(engine, database_url):
    with running_server(database_url, workers=4) as base:
        yield base


def _token(engine, role: Role) -> dict[str, str]:
    secret = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), f"t-{role}", role)
    return {"Authorization": f"Bearer {secret}"}


def _together(jobs) -> list:
    """Run the jobs in threads that all start at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_fifty_checkouts_of_one_item(engine, server):
    desk = Desk(engine, SystemClock())
    staff = _token(engine, Role.STAFF)
    barcode = desk.item(desk.title(), "NORA")
    cards = [desk.patron("1884") for _ in range(CLIENTS)]

    def borrow(card):
        def job():
            with httpx.Client(base_url=server, headers=staff, timeout=60) as client:
                return client.post(
                    "/api/v1/loans",
                    json={"card_number": card, "item_barcode": barcode, "branch_code": "NORA"},
                )

        return job

    responses = _together([borrow(card) for card in cards])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CLIENTS - 1}, statuses
    assert all("on_loan" in r.json()["detail"] for r in responses if r.status_code == 409)
    assert state_violations(engine) == []
    assert feed_violations(engine) == []


def test_holds_and_returns_together_with_a_feed_reader(engine, server):
    rng = random.Random(7)
    desk = Desk(engine, SystemClock())
    staff, reader = _token(engine, Role.STAFF), _token(engine, Role.READER)
    title = desk.title()
    copies = [desk.item(title, rng.choice(MEMBER_BRANCHES)) for _ in range(20)]
    for barcode in copies:
        branch = desk.item_row(barcode).current_branch_code
        desk.checkout(desk.patron("1885"), barcode, branch)
    waiting = [desk.patron(rng.choice(["1884", "1881", "1860"])) for _ in range(30)]

    def hold(card):
        pickup = rng.choice(MEMBER_BRANCHES)

        def job():
            with httpx.Client(base_url=server, headers=staff, timeout=60) as client:
                return client.post(
                    "/api/v1/holds",
                    json={"card_number": card, "title_id": title, "pickup_branch_code": pickup},
                )

        return job

    def give_back(barcode):
        branch = rng.choice(MEMBER_BRANCHES)

        def job():
            with httpx.Client(base_url=server, headers=staff, timeout=60) as client:
                return client.post(
                    "/api/v1/returns", json={"item_barcode": barcode, "branch_code": branch}
                )

        return job

    seen: list[int] = []
    load_done = threading.Event()

    def read_feed():
        after = 0
        with httpx.Client(base_url=server, headers=reader, timeout=60) as client:
            while True:
                finished = load_done.is_set()
                page = client.get("/api/v1/events", params={"after": after, "limit": 7}).json()
                seen.extend(e["id"] for e in page["events"])
                after = page["next_after"]
                if finished and not page["events"]:
                    return

    feed_reader = threading.Thread(target=read_feed)
    feed_reader.start()
    jobs = [hold(card) for card in waiting] + [give_back(barcode) for barcode in copies]
    rng.shuffle(jobs)
    responses = _together(jobs)
    load_done.set()
    feed_reader.join(timeout=120)

    assert all(r.status_code in (200, 201) for r in responses), [
        r.text for r in responses if r.status_code not in (200, 201)
    ]
    assert state_violations(engine) == []
    assert feed_violations(engine) == []
    # The watermark reader saw every event exactly once, in order.
    assert seen == list(range(1, desk.last_event_id() + 1))
    # No hold waits while a copy it could have sits on a shelf (all are members now).
    statuses = Counter(desk.item_row(barcode).status for barcode in copies)
    with engine.connect() as c:
        waiting_holds = c.execute(
            select(func.count()).select_from(tables.hold).where(tables.hold.c.status == "waiting")
        ).scalar_one()
    assert waiting_holds == 0 or statuses["available"] == 0, (waiting_holds, statuses)
    assert statuses["on_loan"] == 0
