"""Where a request's time goes in one API worker: py-spy's collapsed stacks (recorded with
--idle, so time waiting for the database counts) split by layer, in ms per request.

    .venv/bin/python -m benchmarks.profile_summary STACKS --rate 250 --requests N

N is the number of requests the worker answered while it was recorded (the benchmark
estimates it from the worker's share of the clients' connections). A sample is one thread
at one instant: threads waiting for work and the event loop waiting for sockets are left
out, so the total is the time requests spent in the worker, threads added up.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# (layer, a frame that marks it), the first match from the top of the stack down wins:
# the order is from the most to the least specific.
LAYERS = (
    # SQLite: waiting for the write lock (BEGIN IMMEDIATE, database.py), in C.
    ("SQLite write lock: waiting for BEGIN IMMEDIATE", "_on_begin"),
    ("feed counter: waiting for the lock and the commit's fsync", "write_events"),
    ("commit", "_connection_commit_impl"),
    ("commit: flush of the changed rows", "Session.flush"),
    ("row locks (title, item, patron, hold)", "Repository._locked"),
    ("reference data (consortium, rules, collections)", "ReferenceRepository"),
    ("authentication (token lookup)", "authenticate"),
    ("connection from the pool", "_ConnectionFairy._checkout"),
    ("unit of work: session set-up and close", "SqlAlchemyUnitOfWork.__"),
    ("other queries of the use case", "operational/adapters/repository.py"),
    ("use case: domain and service code", "operational/"),
    ("HTTP: FastAPI dependencies, validation, answer", "fastapi/"),
    ("HTTP: uvicorn and Starlette", "uvicorn/"),
)
WAITING = ("Connection.wait (psycopg", "_wait_", "Condition.wait", "Lock.acquire")
# Threads that wait for work: anywhere in the stack, or (the event loop) as its last frame.
IDLE = (
    "Queue.get (queue.py",  # a worker thread waiting for a request
    "Process.always_pong",  # uvicorn's supervisor heartbeat
    "Server.main_loop",  # uvicorn's once-a-second housekeeping
)
IDLE_LEAVES = (
    "EpollSelector.select",  # the event loop waiting for sockets
    "Runner.run (asyncio/runners.py",  # idem (py-spy shows uvloop's native wait here)
)


def summarise(stacks: Path, rate: float, requests: float) -> list[tuple[str, float, float]]:
    """(layer, ms in Python per request, ms waiting for the database per request), in
    LAYERS order. "In Python" includes waiting for the GIL and for a CPU: on a busy
    machine much of it is that."""
    cpu, waiting = Counter(), Counter()
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(m in f for f in frames for m in IDLE) or any(m in frames[-1] for m in IDLE_LEAVES):
            continue
        layer = next((name for name, marker in LAYERS if any(marker in f for f in frames)), "other")
        waits = layer == LAYERS[0][0] or any(w in frames[-1] for w in WAITING)
        (waiting if waits else cpu)[layer] += int(count)
    per_request = 1000 / rate / max(requests, 1)
    names = [name for name, _ in LAYERS] + ["other"]
    return [
        (name, cpu[name] * per_request, waiting[name] * per_request)
        for name in names
        if cpu[name] + waiting[name]
    ]


def format_summary(rows: list[tuple[str, float, float]]) -> str:
    lines = [f"{'where a request spends its time in the worker':<58}{'Python':>8}{'wait ms':>9}"]
    lines += [f"{name:<58}{c:>8.2f}{w:>9.2f}" for name, c, w in rows]
    lines.append(f"{'total':<58}{sum(r[1] for r in rows):>8.2f}{sum(r[2] for r in rows):>9.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", type=Path)
    parser.add_argument("--rate", type=float, default=250)
    parser.add_argument("--requests", type=float, required=True)
    args = parser.parse_args()
    print(format_summary(summarise(args.stacks, args.rate, args.requests)))


if __name__ == "__main__":
    main()
