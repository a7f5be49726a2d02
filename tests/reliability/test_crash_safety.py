"""kill -9 of the API server (several workers, PostgreSQL) in the middle of a concurrent
checkout and return load: after a restart no item is on two loans or both on loan and in
transit, every committed change has exactly one event, and a watermark reader that was
reading the feed throughout ends with every event exactly once."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import httpx
import pytest

from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.server import ServerProcess
from tests.stress import scaled

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CLIENTS = 12
BRANCHES = ["NORA", "LIND", "KUM", "HBG", "LAXA"]


@pytest.fixture
def postgres_url(postgres_admin_url):
    from tests.conftest import create_postgres_database

    url, drop = create_postgres_database(postgres_admin_url)
    yield url
    drop()


def test_kill_9_under_load_leaves_consistent_state(postgres_url):
    from operational.adapters import schema
    from operational.adapters.database import create_database_engine
    from tests.conftest import REFERENCE_DIR

    engine = create_database_engine(postgres_url)
    schema.init(engine, REFERENCE_DIR)
    desk = Desk(engine, SystemClock())
    titles = [desk.title() for _ in range(4)]
    items = [desk.item(titles[n % 4], BRANCHES[n % 5]) for n in range(40)]
    cards = [desk.patron("1884") for _ in range(CLIENTS)]
    staff = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), "s", Role.STAFF)
    reader = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), "r", Role.READER)
    sent = Counter()
    stop = threading.Event()
    server = ServerProcess(postgres_url, workers=4)
    base = server.start()

    def client_load(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {staff}"}, timeout=10
        ) as client:
            while not stop.is_set():
                barcode, branch = rng.choice(items), rng.choice(BRANCHES)
                try:
                    if rng.random() < 0.5:
                        client.post(
                            "/api/v1/loans",
                            json={
                                "card_number": cards[index],
                                "item_barcode": barcode,
                                "branch_code": branch,
                            },
                        )
                    elif rng.random() < 0.8:
                        client.post(
                            "/api/v1/returns", json={"item_barcode": barcode, "branch_code": branch}
                        )
                    else:
                        client.post(
                            "/api/v1/holds",
                            json={
                                "card_number": cards[index],
                                "title_id": rng.choice(titles),
                                "pickup_branch_code": branch,
                            },
                        )
                    sent["requests"] += 1
                except httpx.HTTPError:
                    sent["failed"] += 1  # the server is being killed and restarted
                    time.sleep(0.1)

    threads = [threading.Thread(target=client_load, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    killed_after = 0
    try:
        for _ in range(scaled(1, 4)):
            time.sleep(4)
            server.kill()  # kill -9, all workers, mid-transaction
            killed_after = sent["requests"]
            server.start()
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    try:
        seen: list[int] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {reader}"}) as client:
            after = 0
            while True:
                page = client.get("/api/v1/events", params={"after": after, "limit": 500}).json()
                if not page["events"]:
                    break
                seen.extend(e["id"] for e in page["events"])
                after = page["next_after"]
    finally:
        server.stop()
    assert killed_after > 20 and sent["requests"] > killed_after, sent
    assert state_violations(engine) == []
    assert feed_violations(engine) == []
    assert seen == list(range(1, len(seen) + 1)) and len(seen) == desk.last_event_id()
    engine.dispose()
