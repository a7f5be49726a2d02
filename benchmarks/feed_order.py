"""Benchmark: does the feed counter serialise writers through the commit's WAL flush?

    .venv/bin/python -m benchmarks.feed_order [--seconds 5] [--runs 3] [--clients 16]

Writers on PostgreSQL that do what a checkout's end does (one event row, then COMMIT with
`synchronous_commit = on`), without the API or the ORM, in three ways, rounds alternating:

- `counter`: the feed's way (adapters/feed.py): the counter row moved and the event
  inserted in one statement, sent with the COMMIT. The counter's row lock is held until
  the commit's flush is done, so the next writer's statement waits for it: one flush per
  transaction, one after the other.
- `sequence`: ids from a PostgreSQL sequence, no lock held: commits that arrive together
  share one WAL flush (group commit). This alone breaks the feed's contract (an id can
  become visible after a higher one), so a reader would need a watermark.
- `no event`: the same transaction without the event (its item update only): what the
  disk allows with no feed at all.

Prints transactions per second and the latency of one (p50, p99) for each. Each writer
is a thread with its own connection: PostgreSQL's backends, not Python, do the work.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime

import psycopg

from benchmarks.common import Measurement, format_table, write_results

SETUP = """
CREATE TABLE counter (name text PRIMARY KEY, last_id bigint NOT NULL);
INSERT INTO counter VALUES ('feed', 0);
CREATE SEQUENCE event_id;
CREATE TABLE event_counter (id bigint PRIMARY KEY, occurred_at timestamptz, type text, item_id int);
CREATE TABLE event_sequence (LIKE event_counter INCLUDING ALL);
CREATE TABLE item (id int PRIMARY KEY, status text);
INSERT INTO item SELECT g, 'available' FROM generate_series(1, 1000) g;
"""
# The transaction's own row change (the item's status), then the event, then COMMIT.
ITEM = "UPDATE item SET status = %s WHERE id = %s"
WAYS = {
    "counter": "WITH c AS (UPDATE counter SET last_id = last_id + 1 WHERE name = 'feed' "
    "RETURNING last_id) INSERT INTO event_counter SELECT c.last_id, %s, 'loan', %s FROM c",
    "sequence": "INSERT INTO event_sequence VALUES (nextval('event_id'), %s, 'loan', %s)",
    "no event": None,
}


def _writer(url: str, way: str, item: int, stop: float, latencies: list[float]) -> None:
    with psycopg.connect(url) as connection:
        status = "on_loan"
        while time.monotonic() < stop:
            began = time.perf_counter()
            with connection.pipeline():
                connection.execute(ITEM, (status, item))
                if WAYS[way] is not None:
                    connection.execute(WAYS[way], (datetime.now(UTC), item))
                connection.commit()
            latencies.append(time.perf_counter() - began)
            status = "available" if status == "on_loan" else "on_loan"


def _round(url: str, way: str, clients: int, seconds: float) -> tuple[float, float, float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_writer, args=(url, way, i + 1, stop, latencies[i]))
        for i in range(clients)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    every = sorted(x for per in latencies for x in per)
    return (
        len(every) / wall,
        1000 * every[len(every) // 2],
        1000 * every[min(len(every) - 1, int(0.99 * len(every)))],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    from bibbla.config import get_settings
    from tests.conftest import create_postgres_database

    url, drop = create_postgres_database(get_settings().test_postgres_url)
    url = url.replace("postgresql+psycopg://", "postgresql://")
    results = {
        way: [Measurement(f"{way}: {what}", unit) for what, unit in MEASURES] for way in WAYS
    }
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(SETUP)
        for _ in range(args.runs):
            for way in WAYS:  # alternating, so a busy moment of the host hits all three
                for measurement, value in zip(
                    results[way], _round(url, way, args.clients, args.seconds), strict=True
                ):
                    measurement.values.append(value)
    finally:
        drop()
    measurements = [m for per in results.values() for m in per]
    path = write_results("feed_order", measurements, vars(args))
    print(
        format_table(
            f"A writer's event and commit on PostgreSQL ({args.clients} writers, "
            f"{args.runs} runs of {args.seconds:g} s)",
            measurements,
        )
    )
    print(f"results: {path}")


MEASURES = (("commits per s", "transactions/s"), ("p50", "ms"), ("p99", "ms"))

if __name__ == "__main__":
    main()
