"""Benchmark: checkouts and returns per second through the HTTP API, on SQLite and on
PostgreSQL, against an authenticated read of the branch list by the same clients in the
same round (the baseline: what the server, auth and HTTP cost without a write).

    .venv/bin/python -m benchmarks.lending_api [--seconds 8] [--runs 3] [--clients 16]
                                                [--workers 4] [--no-postgres]

A real `bibbla serve` with several worker processes; each client thread owns its own
items, so the load is write throughput, not contention on one item (the concurrency tests
cover contention). After the load the database is checked: no item on two loans, one
event per change, ids without gaps.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.common import Measurement, format_table, ratio, write_results
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access
from tests.conftest import REFERENCE_DIR, create_postgres_database
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.server import running_server

ITEMS_PER_CLIENT = 40


def _prepare(url: str, clients: int) -> tuple[dict, list[list[str]], list[str]]:
    engine = create_database_engine(url)
    schema.init(engine, REFERENCE_DIR)
    desk = Desk(engine, SystemClock())
    secret = access.create_token(SqlAlchemyUnitOfWork(engine), SystemClock(), "bench", Role.STAFF)
    title = desk.title()
    barcodes = [[desk.item(title, "NORA") for _ in range(ITEMS_PER_CLIENT)] for _ in range(clients)]
    cards = [desk.patron("1884") for _ in range(clients)]
    engine.dispose()
    return {"Authorization": f"Bearer {secret}"}, barcodes, cards


def _load(base: str, headers: dict, seconds: float, clients: int, job) -> tuple[int, list[float]]:
    """Run `job(client, index, latencies)` in `clients` threads for `seconds`; returns the
    number of requests and their latencies."""
    stop = time.monotonic() + seconds
    counts, latencies = [0] * clients, [[] for _ in range(clients)]
    barrier = threading.Barrier(clients)

    def worker(index: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            barrier.wait()
            while time.monotonic() < stop:
                counts[index] += job(client, index, latencies[index])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), [x for per in latencies for x in per]


def _timed(client: httpx.Client, latencies: list[float], method: str, path: str, **kw) -> int:
    began = time.perf_counter()
    response = client.request(method, path, **kw)
    latencies.append(time.perf_counter() - began)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def measure(backend: str, url: str, args) -> list[Measurement]:
    headers, barcodes, cards = _prepare(url, args.clients)
    position = [0] * args.clients
    circulation, baseline, p50, p99 = (
        Measurement(f"{backend}: checkouts+returns per s", "requests/s"),
        Measurement(f"{backend}: baseline branch-list reads per s", "requests/s"),
        Measurement(f"{backend}: circulation latency p50", "ms"),
        Measurement(f"{backend}: circulation latency p99", "ms"),
    )

    def read(client, _index, latencies) -> int:
        return _timed(client, latencies, "GET", "/api/v1/branches")

    def lend_and_return(client, index, latencies) -> int:
        barcode = barcodes[index][position[index] % ITEMS_PER_CLIENT]
        position[index] += 1
        _timed(
            client,
            latencies,
            "POST",
            "/api/v1/loans",
            json={"card_number": cards[index], "item_barcode": barcode, "branch_code": "NORA"},
        )
        _timed(
            client,
            latencies,
            "POST",
            "/api/v1/returns",
            json={"item_barcode": barcode, "branch_code": "NORA"},
        )
        return 2

    with running_server(url, workers=args.workers) as base:
        for _ in range(args.runs):
            count, _ = _load(base, headers, args.seconds, args.clients, read)
            baseline.values.append(count / args.seconds)
            count, latencies = _load(base, headers, args.seconds, args.clients, lend_and_return)
            circulation.values.append(count / args.seconds)
            p50.values.append(1000 * _percentile(latencies, 0.5))
            p99.values.append(1000 * _percentile(latencies, 0.99))
    engine = create_database_engine(url)
    problems = state_violations(engine) + feed_violations(engine)
    engine.dispose()
    if problems:
        raise RuntimeError(f"{backend}: the load left the database inconsistent: {problems[:5]}")
    share = Measurement(
        f"{backend}: circulation / baseline", "ratio", ratio(circulation.values, baseline.values)
    )
    return [circulation, baseline, share, p50, p99]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as folder:
        results += measure("sqlite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", args)
    if not args.no_postgres:
        from bibbla.config import get_settings

        url, drop = create_postgres_database(get_settings().test_postgres_url)
        try:
            results += measure("postgresql", url, args)
        finally:
            drop()
    path = write_results("lending_api", results, vars(args))
    print(
        format_table(
            f"Lending core through the API ({args.clients} clients, {args.workers} workers, "
            f"{args.runs} runs of {args.seconds:g} s)",
            results,
        )
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
