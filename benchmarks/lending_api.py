"""Benchmark: checkouts and returns per second through the HTTP API, on SQLite and on
PostgreSQL, against an authenticated read of the branch list by the same clients in the
same round (the baseline: what the server, auth and HTTP cost without a write).

    .venv/bin/python -m benchmarks.lending_api [--seconds 8] [--runs 3] [--clients 16]
        [--workers 4] [--no-sqlite] [--no-postgres] [--profile FOLDER]

A real `bibbla serve` with several worker processes, driven by a load generator in its own
process with its own event loop (lending_load.py; its CPU use is reported); each client
owns its own items, so the load is write throughput, not contention on one item (the
concurrency tests cover contention), though all the items are copies of one title. After
the load the database is checked: no item on two loans, one event per change, ids without
gaps, as many loans as checkouts answered 201. --profile records the busiest worker with
py-spy (the `bench` dependency group) and prints where a request's time went
(profile_summary.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import func, select, text

from benchmarks import profile_summary
from benchmarks.common import Measurement, format_table, ratio, write_results
from bibbla.config import PROJECT_ROOT
from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.domain.access import Role
from operational.service_layer import access
from tests.conftest import REFERENCE_DIR, create_postgres_database
from tests.operational.desk import Desk
from tests.operational.invariants import feed_violations, state_violations
from tests.server import ServerProcess

ITEMS_PER_CLIENT = 40
PROFILE_RATE = 250  # py-spy samples per second


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


def run_load(
    base: str, headers: dict, seconds: float, job: str, cards, barcodes, during=None
) -> dict:
    """One round of `job` ("read" or "circulation") by the load generator in its own
    process (lending_load.py); its answer, with the CPU it used. during() runs meanwhile."""
    spec = {
        "base": base,
        "headers": headers,
        "seconds": seconds,
        "job": job,
        "cards": cards,
        "barcodes": barcodes,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(spec, file)
        file.flush()
        generator = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.lending_load", file.name],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if during is not None:
            during()
        out, err = generator.communicate()
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator failed ({job}):\n{err[-3000:]}")
    return json.loads(out)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def _workers(server_pid: int) -> list[int]:
    """The server's worker processes (uvicorn spawns them; the resource tracker is not one)."""
    import psutil

    return [
        child.pid
        for child in psutil.Process(server_pid).children()
        if "spawn_main" in " ".join(child.cmdline())
    ]


def _cpu(server: ServerProcess, url: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each of the server's workers and (PostgreSQL) each
    backend serving the benchmark's database, by process id."""
    import psutil

    def used(pids) -> dict[int, float]:
        seconds = {}
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                seconds[pid] = times.user + times.system
        return seconds

    backends: list[int] = []
    if not url.startswith("sqlite"):
        engine = create_database_engine(url)
        with engine.connect() as connection:
            backends = list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )
        engine.dispose()
    return {"server": used(_workers(server.process.pid)), "database": used(backends)}


def _cpu_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """ms of CPU per answered request, by side (a process new since `before` counts whole)."""
    return {
        side: 1000
        * sum(seconds - before[side].get(pid, 0.0) for pid, seconds in after[side].items())
        / max(requests, 1)
        for side in after
    }


def _clients(pid: int, port: int) -> int:
    """How many HTTP clients' connections the worker holds."""
    import psutil

    return sum(1 for c in psutil.Process(pid).net_connections("tcp") if c.laddr.port == port)


def _profile(
    server: ServerProcess, seconds: float, folder: Path, backend: str, facts: dict
) -> None:
    """py-spy records the busiest worker for most of a round; facts gets the worker's
    share of the clients and how long it was recorded."""
    time.sleep(1)  # the load generator's connections are open by now
    folder.mkdir(parents=True, exist_ok=True)
    workers = _workers(server.process.pid)
    # Which worker gets the clients' keep-alive connections is up to the kernel's accepts.
    spread = {pid: _clients(pid, server.port) for pid in workers}
    (folder / f"{backend}-connections.json").write_text(json.dumps(spread))
    pid = max(workers, key=spread.get)
    duration = max(1, int(seconds) - 2)
    facts.update(share=spread[pid] / max(1, sum(spread.values())), duration=duration)
    # --nonblocking: py-spy reads the worker's memory without stopping it, so the profile
    # does not slow the round it measures. Collapsed stacks load in speedscope or
    # flamegraph.pl; `benchmarks.profile_summary` splits them by layer.
    subprocess.run(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(PROFILE_RATE),
            "--duration",
            str(duration),
            "--format",
            "raw",
            "--idle",
            "--nonblocking",
            "--output",
            str(folder / f"{backend}-worker.collapsed.txt"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )


def _summarise_profile(folder: Path | None, name: str, answer: dict, facts: dict) -> None:
    """Print and keep where a request's time went in the profiled worker."""
    if not facts:
        return
    rate = answer["requests"] / answer["wall_seconds"]
    rows = profile_summary.summarise(
        folder / f"{name}-worker.collapsed.txt",
        PROFILE_RATE,
        rate * facts["duration"] * facts["share"],
    )
    summary = profile_summary.format_summary(rows)
    (folder / f"{name}-summary.txt").write_text(summary + "\n")
    print(f"{name}, one worker under load:\n{summary}")


def measure(backend: str, url: str, args) -> list[Measurement]:
    headers, barcodes, cards = _prepare(url, args.clients)
    circulation, baseline, p50, p99, read_p99, load_cpu = (
        Measurement(f"{backend}: checkouts+returns per s", "requests/s"),
        Measurement(f"{backend}: baseline branch-list reads per s", "requests/s"),
        Measurement(f"{backend}: circulation latency p50", "ms"),
        Measurement(f"{backend}: circulation latency p99", "ms"),
        Measurement(f"{backend}: baseline read latency p99", "ms"),
        Measurement(f"{backend}: load generator CPU (share of one core)", "ratio"),
    )
    busy = Measurement(f"{backend}: circulation answered 503 busy (share)", "ratio")
    server_cpu = Measurement(f"{backend}: server CPU per checkout or return", "ms")
    database_cpu = Measurement(f"{backend}: PostgreSQL CPU per checkout or return", "ms")
    checkouts = 0
    server = ServerProcess(url, args.workers)
    try:
        base = server.start()
        for run in range(args.runs):
            last = run == args.runs - 1
            profile, facts = None, {}
            if last and args.profile:
                profile = partial(
                    _profile, server, args.seconds, args.profile, f"{backend}-reads", facts
                )
            read = run_load(base, headers, args.seconds, "read", cards, barcodes, profile)
            _summarise_profile(args.profile, f"{backend}-reads", read, facts)
            baseline.values.append(read["requests"] / read["wall_seconds"])
            read_p99.values.append(1000 * _percentile(read["latencies"], 0.99))
            profile, facts = None, {}
            if last and args.profile:
                profile = partial(_profile, server, args.seconds, args.profile, backend, facts)
            cpu_before = _cpu(server, url)
            lent = run_load(base, headers, args.seconds, "circulation", cards, barcodes, profile)
            cpu = _cpu_per_request(cpu_before, _cpu(server, url), lent["requests"])
            server_cpu.values.append(cpu["server"])
            database_cpu.values.append(cpu["database"])
            _summarise_profile(args.profile, backend, lent, facts)
            circulation.values.append(lent["requests"] / lent["wall_seconds"])
            p50.values.append(1000 * _percentile(lent["latencies"], 0.5))
            p99.values.append(1000 * _percentile(lent["latencies"], 0.99))
            load_cpu.values.append(max(r["cpu_seconds"] / r["wall_seconds"] for r in (read, lent)))
            checkouts += lent["checkouts"]
            busy.values.append(lent["busy"] / max(1, lent["requests"]))
    except BaseException:
        print(f"server log: {server.log_path}\n{server.log()}")
        raise
    finally:
        server.stop()
    engine = create_database_engine(url)
    problems = state_violations(engine) + feed_violations(engine)
    with engine.connect() as connection:
        loans = connection.execute(select(func.count()).select_from(tables.loan)).scalar_one()
    engine.dispose()
    if loans != checkouts:
        problems.append(f"{checkouts} checkouts answered 201 but {loans} loans were stored")
    if problems:
        raise RuntimeError(f"{backend}: the load left the database inconsistent: {problems[:5]}")
    share = Measurement(
        f"{backend}: circulation / baseline", "ratio", ratio(circulation.values, baseline.values)
    )
    measured = [circulation, baseline, share, p50, p99, read_p99, busy, load_cpu, server_cpu]
    return measured + ([database_cpu] if backend == "postgresql" else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the busiest worker with py-spy during the last round of each load (reads, "
        "circulation) into this folder, and print where a request's time went",
    )
    args = parser.parse_args()
    results: list[Measurement] = []
    if not args.no_sqlite:
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
