"""The lending core when its database goes away: on a throwaway PostgreSQL cluster made by
the test (never the machine's shared server), the server is stopped under load. While it
is down the API answers 503 with a reason; when it is back the API recovers by itself,
and nothing it did is left half-done."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access
from tests.conftest import REFERENCE_DIR
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.server import free_port, running_server

pytestmark = pytest.mark.slow


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, on its own port, run as `postgres`."""

    def __init__(self, bin_dir: Path, folder: Path, port: int):
        self.bin_dir, self.folder, self.port = bin_dir, folder, port
        self.data = folder / "data"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._as_postgres(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    bin_dir = _postgres_bin()
    if bin_dir is None or shutil.which("runuser") is None:
        if os.environ.get("BIBBLA_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are needed for this test")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="bibbla-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = ThrowawayCluster(bin_dir, folder, free_port())
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def test_database_down_is_503_and_the_api_recovers_by_itself():
    with throwaway_cluster() as cluster:
        engine = create_database_engine(cluster.url)
        schema.init(engine, REFERENCE_DIR)
        desk = Desk(engine, SystemClock())
        title = desk.title()
        items = [desk.item(title, "NORA") for _ in range(20)]
        card = desk.patron("1884")
        secret = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), "t", Role.STAFF)
        engine.dispose()
        headers = {"Authorization": f"Bearer {secret}"}
        phase = {"name": "up"}
        answers: dict[str, Counter] = {"up": Counter(), "down": Counter(), "back": Counter()}
        reasons: set[str] = set()
        stop = threading.Event()

        with running_server(cluster.url, workers=2) as base:

            def load() -> None:
                n = 0
                with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                    while not stop.is_set():
                        barcode = items[n % len(items)]
                        n += 1
                        for path, body in (
                            (
                                "/api/v1/loans",
                                {
                                    "card_number": card,
                                    "item_barcode": barcode,
                                    "branch_code": "NORA",
                                },
                            ),
                            ("/api/v1/returns", {"item_barcode": barcode, "branch_code": "NORA"}),
                        ):
                            response = client.post(path, json=body)
                            answers[phase["name"]][response.status_code] += 1
                            if response.status_code == 503:
                                reasons.add(response.json()["detail"])
                                assert response.headers.get("retry-after")
                        time.sleep(0.02)

            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(3)
            phase["name"] = "down"
            cluster.stop("fast")
            time.sleep(4)
            cluster.start()
            # Requests already on their way when the server came back may still fail; the
            # API must be answering normally again within a few seconds, without restart.
            time.sleep(4)
            phase["name"] = "back"
            time.sleep(4)
            stop.set()
            worker.join(timeout=60)

        assert set(answers["up"]) <= {200, 201, 409} and answers["up"][201] > 0
        assert answers["down"][503] > 0
        assert set(answers["down"]) <= {200, 201, 409, 503}, answers["down"]
        assert reasons == {"the lending database is unavailable; try again shortly"}
        assert set(answers["back"]) <= {200, 201, 409} and answers["back"][201] > 0, answers
        engine = create_database_engine(cluster.url)
        assert state_violations(engine) == [] and feed_violations(engine) == []
        engine.dispose()
