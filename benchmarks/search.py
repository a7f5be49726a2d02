"""Benchmark: catalogue search through the visitors' web (`GET /sok?q=…`, the whole HTML
page: index query, facets, copies on the shelf, template) on a catalogue of 500 000 titles,
on SQLite and PostgreSQL, against a `LIKE '%term%'` scan of the same title table doing the
same page in the same round (the baseline).

    .venv/bin/python -m benchmarks.search [--titles 500000] [--seconds 8] [--runs 3]
                                          [--clients 16] [--workers 2] [--no-postgres]

The catalogue (benchmarks/search_catalogue.py) has Zipf-distributed words and Swedish
authors; its index is filled by the triggers as the rows go in. Building 500 000 titles
through the triggers takes minutes on each backend, so the built catalogue is kept
(`benchmarks/.cache/search/`, a SQLite file, and a PostgreSQL template database) under a
fingerprint of its size, seed and the code and migrations that make it, and each run
searches a fresh copy of it; the write rate with the index triggers is measured on a new
sample of `--write-sample` titles in every run. Two servers run side by side as their own
processes (benchmarks/search_server.py), one searching with the index and one with the LIKE
scan; this process is the load generator: `--clients` threads, each sending the next query
of a fixed search log as soon as the last answer came (no think time), for `--seconds`, the
two servers in turn, round after round. Also measured: the same with one client (a query's
own latency). Targets (issue 19): p95 under 50 ms at 16 clients, and at least 20 times the
LIKE scan's throughput.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

from benchmarks import search_catalogue
from benchmarks.common import Measurement, format_table, ratio, write_results
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from tests.conftest import REFERENCE_DIR, create_postgres_database
from tests.server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUERIES = 4000
CACHE = PROJECT_ROOT / "benchmarks" / ".cache" / "search"
TEMPLATE_PREFIX = "bibbla_search_catalogue_"


def fingerprint(titles: int) -> str:
    """What a cached catalogue was made from: its size and seed, the generator, and the
    schema (migrations and tables) it was written into. Any change makes a new one."""
    digest = hashlib.sha256(f"{titles}:{search_catalogue.DEFAULT_SEED}".encode())
    migrations = PROJECT_ROOT / "operational" / "adapters" / "migrations" / "versions"
    sources = [
        PROJECT_ROOT / "benchmarks" / "search_catalogue.py",
        PROJECT_ROOT / "operational" / "adapters" / "tables.py",
        *sorted(migrations.glob("*.py")),
    ]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _build(url: str, titles: int) -> search_catalogue.Catalogue:
    engine = create_database_engine(url)
    try:
        schema.init(engine, REFERENCE_DIR)
        began = time.perf_counter()
        catalogue = search_catalogue.build(engine, titles)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        return catalogue
    finally:
        engine.dispose()


def cached_sqlite_catalogue(titles: int, folder: Path) -> tuple[str, search_catalogue.Catalogue]:
    """A copy, in `folder`, of the cached SQLite catalogue (built first if missing)."""
    key = fingerprint(titles)
    database, described = CACHE / f"catalogue-{key}.sqlite", CACHE / f"catalogue-{key}.pickle"
    if not (database.exists() and described.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob("catalogue-*"):
            old.unlink()
        print(f"sqlite: building the cached catalogue of {titles:,} titles", flush=True)
        building = CACHE / f"building-{key}.sqlite"
        building.unlink(missing_ok=True)
        catalogue = _build(f"sqlite:///{building}", titles)
        described.write_bytes(pickle.dumps(catalogue))
        building.rename(database)  # last: a half-built file is never taken for a cache
    copy = folder / "search.sqlite"
    shutil.copyfile(database, copy)
    return f"sqlite:///{copy}", pickle.loads(described.read_bytes())


def cached_postgres_catalogue(admin_url: str, titles: int) -> tuple[str, callable]:
    """A new database made from the cached template catalogue (built first if missing);
    returns its URL and a function that drops it."""
    template = TEMPLATE_PREFIX + fingerprint(titles)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        existing = set(
            connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": TEMPLATE_PREFIX + "%"},
            )
        )
        if template not in existing:
            for old in existing:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
            print(f"postgresql: building the cached catalogue of {titles:,} titles", flush=True)
            building = template + "_b"
            connection.execute(text(f'CREATE DATABASE "{building}"'))
            try:
                _build(make_url(admin_url).set(database=building).render_as_string(False), titles)
            except BaseException:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                raise
            connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
    admin.dispose()
    return create_postgres_database(admin_url, template=template)


def write_rate(url: str, titles: int) -> float:
    """Titles (with their copies) written per second through the index triggers, into a
    new empty catalogue."""
    engine = create_database_engine(url)
    try:
        schema.init(engine, REFERENCE_DIR)
        seed = search_catalogue.DEFAULT_SEED + 1
        search_catalogue.build(engine, 0, seed=seed)  # makes its author names, unmeasured
        began = time.perf_counter()
        search_catalogue.build(engine, titles, seed=seed)
        return titles / (time.perf_counter() - began)
    finally:
        engine.dispose()


@contextmanager
def search_server(url: str, engine: str, workers: int):
    """benchmarks.search_server in its own process group; yields its base URL."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.search_server",
            "--engine",
            engine,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "BIBBLA_OPERATIONAL_DB": url},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{engine} server exited:\n{log.read().decode()[-4000:]}")
            try:
                if httpx.get(f"{base}/sok?q=test", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{engine} server did not start")
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def load(base: str, queries: list[str], clients: int, seconds: float) -> tuple[int, list[float]]:
    """`clients` threads searching back to back for `seconds`; returns the number of
    answers and their latencies (s). Every answer must be a search page."""
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    barrier = threading.Barrier(clients)

    def worker(index: int) -> None:
        position = index * (len(queries) // clients)
        with httpx.Client(base_url=base, timeout=120) as client:
            barrier.wait()
            while time.monotonic() < stop:
                query = queries[position % len(queries)]
                position += 1
                began = time.perf_counter()
                answer = client.get("/sok", params={"q": query})
                latencies[index].append(time.perf_counter() - began)
                if answer.status_code != 200 or 'id="traffar"' not in answer.text:
                    failures.append(f"{query!r}: {answer.status_code}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} failed searches, e.g. {failures[:3]}")
    flat = [x for per in latencies for x in per]
    return len(flat), flat


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def measure(
    backend: str, url: str, catalogue: search_catalogue.Catalogue, written: float, args
) -> list[Measurement]:
    print(f"{backend}: {args.titles:,} titles, {catalogue.items:,} copies", flush=True)
    queries = search_catalogue.queries(catalogue, QUERIES)
    m = {
        key: Measurement(f"{backend}: {name}", unit)
        for key, name, unit in [
            ("fts_rate", f"search per s ({args.clients} clients)", "requests/s"),
            ("like_rate", f"LIKE scan per s ({args.clients} clients)", "requests/s"),
            ("fts_p50", f"search p50 ({args.clients} clients)", "ms"),
            ("fts_p95", f"search p95 ({args.clients} clients)", "ms"),
            ("like_p50", f"LIKE scan p50 ({args.clients} clients)", "ms"),
            ("like_p95", f"LIKE scan p95 ({args.clients} clients)", "ms"),
            ("fts_p50_1", "search p50 (1 client)", "ms"),
            ("fts_p95_1", "search p95 (1 client)", "ms"),
            ("like_p50_1", "LIKE scan p50 (1 client)", "ms"),
            ("like_p95_1", "LIKE scan p95 (1 client)", "ms"),
        ]
    }
    with (
        search_server(url, "fts", args.workers) as fts,
        search_server(url, "like", args.workers) as like,
    ):
        # one pass of each unmeasured, so both start with warm caches
        load(fts, queries[:50], 2, 3)
        load(like, queries[:50], 2, 3)
        for _ in range(args.runs):
            for name, base in (("fts", fts), ("like", like)):
                count, latencies = load(base, queries, args.clients, args.seconds)
                m[f"{name}_rate"].values.append(count / args.seconds)
                m[f"{name}_p50"].values.append(1000 * percentile(latencies, 0.5))
                m[f"{name}_p95"].values.append(1000 * percentile(latencies, 0.95))
                _count, latencies = load(base, queries, 1, args.seconds / 2)
                m[f"{name}_p50_1"].values.append(1000 * percentile(latencies, 0.5))
                m[f"{name}_p95_1"].values.append(1000 * percentile(latencies, 0.95))
            print(
                f"{backend}: round done: search {m['fts_rate'].values[-1]:.1f}/s, "
                f"LIKE {m['like_rate'].values[-1]:.1f}/s",
                flush=True,
            )
    speedup = Measurement(
        f"{backend}: search / LIKE scan throughput",
        "ratio",
        ratio(m["fts_rate"].values, m["like_rate"].values),
    )
    p95 = Measurement(
        f"{backend}: LIKE scan p95 / search p95",
        "ratio",
        ratio(m["like_p95"].values, m["fts_p95"].values),
    )
    build = Measurement(
        f"{backend}: titles written per s, index included ({args.write_sample:,} titles)",
        "titles/s",
        [written],
    )
    return [speedup, p95, *m.values(), build]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=500_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--write-sample", type=int, default=20_000,
        help="titles written into an empty catalogue to measure the write rate",
    )  # fmt: skip
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as folder:
        written = write_rate(f"sqlite:///{Path(folder) / 'written.sqlite'}", args.write_sample)
        url, catalogue = cached_sqlite_catalogue(args.titles, Path(folder))
        results += measure("sqlite", url, catalogue, written, args)
    if not args.no_postgres:
        from bibbla.config import get_settings

        admin_url = get_settings().test_postgres_url
        url, drop = create_postgres_database(admin_url)
        try:
            written = write_rate(url, args.write_sample)
        finally:
            drop()
        url, drop = cached_postgres_catalogue(admin_url, args.titles)
        try:
            results += measure("postgresql", url, catalogue, written, args)
        finally:
            drop()
    path = write_results("search", results, vars(args))
    print(
        format_table(
            f"Catalogue search through the web, {args.titles:,} titles ({args.clients} "
            f"clients, {args.workers} workers, {args.runs} runs of {args.seconds:g} s)",
            results,
        )
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
