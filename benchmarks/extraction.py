"""Benchmark: landing the event feed, against a naive pandas.read_sql of the same table.

    .venv/bin/python -m benchmarks.extraction [--sizes 200000,400000,800000] [--runs 3]
                                              [--no-postgres]

For each history size a scratch lending-core database is filled with synthetic circulation
events (bulk SQL, for this benchmark only; the events are shaped like the lending core's:
valid types, branches, patrons and due dates, about 6 000 a day as the consortium's scale
suggests, so a longer history covers more days). Then, each in a fresh
process so that peak memory is its own:

- **ingestion**: `ingestion.extract_events` - ADBC -> polars in batches, checked,
  pseudonymised, partitioned by local date, Parquet written durably;
- **pandas**: `pandas.read_sql("SELECT * FROM circulation_event", engine)` and
  `DataFrame.to_parquet` - the naive way, the whole table in memory, no checks.

Reported (min/median/max over the rounds): rows per second and the ratio ingestion / pandas,
measured side by side in each round since these machines are noisy, and peak memory
(resident set size) of each process above its size after its imports. Ingestion's peak
should stay flat as the history grows; pandas' grows with it. Results go to
`benchmarks/results/extraction.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Measurement, format_table, ratio, write_results

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (200_000, 400_000, 800_000)
POSTGRES_SIZE = 400_000
RUNS = 3
BATCH_ROWS = 100_000
PATRONS = 20_000
KEY = "benchmark-pseudonym-key-0123456789"
BRANCHES = ("NORA", "LIND", "HALL", "KOPP", "ASK", "HBG", "KUM", "LAXA", "LEKE")
# The consortium's scale: ~110 000 inhabitants x ~5 loans a year x ~4 events per loan
# (checkout, renewal, return, transports and holds) is about 6 000 events a day.
EVENTS_PER_DAY = 6_000
SECONDS_PER_EVENT = 86_400 / EVENTS_PER_DAY
START = "2024-01-01 06:00:00"


# -------------------------------------------------------------- scratch databases


def _event_select_sqlite(size: int) -> str:
    """A SELECT producing `size` synthetic events (ids 1..size) in SQLite."""
    branches = ", ".join(f"'{code}'" for code in BRANCHES)
    step = SECONDS_PER_EVENT
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {size}),
    b(k, code) AS (SELECT row_number() OVER () - 1, column1 FROM (VALUES {
        ", ".join(f"({c})" for c in branches.split(", "))
    }))
    SELECT i,
           strftime('%Y-%m-%d %H:%M:%f', '{START}', '+' || CAST(i * {
        step
    } AS INTEGER) || ' seconds')
               || '000',
           CASE i % 4 WHEN 0 THEN 'checkout' WHEN 1 THEN 'checkin' WHEN 2 THEN 'renew'
                      ELSE 'hold_placed' END,
           (SELECT code FROM b WHERE k = i % {len(BRANCHES)}),
           i % 50000 + 1, i % 20000 + 1, i % {PATRONS} + 1, i / 2 + 1,
           CASE i % 4 WHEN 3 THEN i / 4 + 1 END, NULL, NULL, NULL,
           CASE WHEN i % 4 IN (0, 2) THEN strftime('%Y-%m-%d %H:%M:%f', '{START}',
               '+' || CAST(i * {step} AS INTEGER) || ' seconds', '+28 days') || '000' END,
           NULL,
           CASE i % 4 WHEN 1 THEN '{{"overdue": false}}' ELSE '{{}}' END
    FROM n
    """


def _event_select_postgres(size: int) -> str:
    branches = "ARRAY[" + ", ".join(f"'{code}'" for code in BRANCHES) + "]"
    step = SECONDS_PER_EVENT
    return f"""
    SELECT i,
           timestamptz '{START}+00' + make_interval(secs => floor(i * {step})),
           (ARRAY['checkout', 'checkin', 'renew', 'hold_placed'])[i % 4 + 1],
           ({branches})[i % {len(BRANCHES)} + 1],
           i % 50000 + 1, i % 20000 + 1, i % {PATRONS} + 1, i / 2 + 1,
           CASE i % 4 WHEN 3 THEN i / 4 + 1 END, NULL, NULL, NULL,
           CASE WHEN i % 4 IN (0, 2)
                THEN timestamptz '{START}+00' + make_interval(secs => floor(i * {step}), days => 28)
           END,
           NULL,
           CASE i % 4 WHEN 1 THEN '{{"overdue": false}}' ELSE '{{}}' END::jsonb
    FROM generate_series(1, {size}) AS i
    """


def build_database(url: str, size: int) -> None:
    """A lending-core schema (with its reference data) and `size` synthetic events."""
    from sqlalchemy import text

    from operational.adapters import schema
    from operational.adapters.database import create_database_engine

    engine = create_database_engine(url)
    try:
        schema.init(engine, PROJECT_ROOT / "reference")
        select = (
            _event_select_sqlite(size)
            if engine.dialect.name == "sqlite"
            else _event_select_postgres(size)
        )
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO circulation_event {select}"))
            connection.execute(text(f"UPDATE feed_counter SET last_id = {size}"))
    finally:
        engine.dispose()


def postgres_database() -> tuple[str, callable] | None:
    """A throwaway PostgreSQL database on the test server, or None when there is none."""
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get(
        "BIBBLA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        from tests.conftest import create_postgres_database

        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return create_postgres_database(admin_url)
    except Exception as error:  # no server: the PostgreSQL row is left out, and said so
        print(f"(PostgreSQL at {admin_url} unavailable: {error}; skipped)")
        return None


# -------------------------------------------------------------- measured child processes


def _rss_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def child(method: str, url: str, folder: Path) -> dict:
    """Run one method once in this (fresh) process; returns its measurements."""
    if method == "ingestion":
        # Imported before the baseline, as pandas and SQLAlchemy are for the other method:
        # the measurement is the work, not the libraries' import.
        import adbc_driver_postgresql.dbapi  # noqa: F401
        import adbc_driver_sqlite.dbapi  # noqa: F401

        from bibbla.config import Settings
        from ingestion import extract_events

        settings = Settings(
            env="test",
            data_dir=folder,
            landing=folder / "landing",
            operational_db=url,
            pseudonym_key=KEY,
            ingest_batch_rows=BATCH_ROWS,
        )
        baseline = _rss_bytes()
        started = time.perf_counter()
        report = extract_events(settings)
        seconds = time.perf_counter() - started
        rows = report.rows_landed + report.rows_quarantined
        files = report.tables["circulation_event"].files_written
    else:
        import pandas as pd
        import pyarrow.parquet  # noqa: F401
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.connect():  # load the dialect and driver before the baseline
            pass
        baseline = _rss_bytes()
        started = time.perf_counter()
        frame = pd.read_sql("SELECT * FROM circulation_event", engine)
        frame.to_parquet(folder / "circulation_event.parquet")
        seconds = time.perf_counter() - started
        rows, files = len(frame), 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {
        "method": method,
        "rows": rows,
        "files": files,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mb": round(peak / 2**20, 1),
        "peak_above_baseline_mb": round((peak - baseline) / 2**20, 1),
    }


def measure(method: str, url: str, scratch: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"{method}-", dir=scratch))
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.extraction", "--child", method, url, str(folder)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(folder, ignore_errors=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------- the run


def _case_name(backend: str, size: int) -> str:
    return f"{backend} {size // 1000}k"


def run(sizes: list[int], with_postgres: bool, runs: int) -> tuple[list[Measurement], dict]:
    """Every case, `runs` rounds; in each round both methods run side by side."""
    scratch = Path(tempfile.mkdtemp(prefix="bibbla-benchmark-"))
    series: dict[str, Measurement] = {}

    def record(name: str, unit: str, values: list[float]) -> None:
        series.setdefault(name, Measurement(name, unit)).values.extend(values)

    cases, drops = [], []
    try:
        for size in sizes:
            cases.append(("sqlite", size, f"sqlite:///{scratch / f'operational-{size}.sqlite'}"))
        if with_postgres and (created := postgres_database()) is not None:
            url, drop = created
            drops.append(drop)
            cases.append(("postgresql", POSTGRES_SIZE, url))
        for backend, size, url in cases:
            started = time.perf_counter()
            build_database(url, size)
            elapsed = time.perf_counter() - started
            print(f"{backend} {size:>9,} events generated in {elapsed:.1f} s")
        # Flush the generator's writes now, so that neither method pays for them.
        os.sync()
        for round_number in range(1, runs + 1):
            print(f"round {round_number}/{runs}")
            for backend, size, url in cases:
                case = _case_name(backend, size)
                ours, naive = measure("ingestion", url, scratch), measure("pandas", url, scratch)
                record(
                    f"{case} ingestion rows/s",
                    "rows/s (higher is better)",
                    [ours["rows_per_second"]],
                )
                record(
                    f"{case} pandas.read_sql rows/s",
                    "rows/s (higher is better)",
                    [naive["rows_per_second"]],
                )
                record(
                    f"{case} ingestion / pandas rows/s",
                    "ratio (higher is better)",
                    ratio([ours["rows_per_second"]], [naive["rows_per_second"]]),
                )
                record(
                    f"{case} ingestion peak MB",
                    "MB above baseline (lower is better)",
                    [ours["peak_above_baseline_mb"]],
                )
                record(
                    f"{case} pandas peak MB",
                    "MB above baseline (lower is better)",
                    [naive["peak_above_baseline_mb"]],
                )
    finally:
        for drop in drops:
            drop()
        shutil.rmtree(scratch, ignore_errors=True)

    smallest, largest = _case_name("sqlite", min(sizes)), _case_name("sqlite", max(sizes))
    if smallest != largest:
        for method in ("ingestion", "pandas"):
            record(
                f"{method} peak MB growth {smallest} -> {largest}",
                f"ratio (history grew x{max(sizes) / min(sizes):g})",
                ratio(
                    series[f"{largest} {method} peak MB"].values,
                    series[f"{smallest} {method} peak MB"].values,
                ),
            )
    context = {
        "batch_rows": BATCH_ROWS,
        "events_per_day": EVENTS_PER_DAY,
        "sqlite_sizes": sizes,
        "postgresql_size": POSTGRES_SIZE if any(c[0] == "postgresql" for c in cases) else None,
        "runs": runs,
        "memory": "peak resident set size of a fresh process, minus its size after imports",
    }
    return list(series.values()), context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="history sizes (events) for SQLite, comma-separated",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="rounds of every case")
    parser.add_argument("--no-postgres", action="store_true", help="leave PostgreSQL out")
    parser.add_argument(
        "--child", nargs=3, metavar=("METHOD", "URL", "FOLDER"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.child:
        method, url, folder = arguments.child
        print(json.dumps(child(method, url, Path(folder))))
        return
    sizes = [int(s) for s in arguments.sizes.split(",")]
    measurements, context = run(sizes, not arguments.no_postgres, arguments.runs)
    path = write_results("extraction", measurements, context)
    print()
    print(format_table("Landing the event feed: ingestion vs pandas.read_sql", measurements))
    print(f"\nwritten to {path.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
