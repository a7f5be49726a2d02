"""Shared fixtures: databases on SQLite and PostgreSQL, a simulated clock, small factories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bibbla.config import PROJECT_ROOT, get_settings
from operational.adapters import schema
from operational.adapters.database import create_database_engine
from operational.clock import LIBRARY_TIMEZONE, SimulatedClock

REFERENCE_DIR = PROJECT_ROOT / "reference"


def _postgres_admin_url() -> str:
    return os.environ.get("BIBBLA_TEST_POSTGRES_URL", get_settings().test_postgres_url)


def _postgres_required() -> bool:
    return os.environ.get("BIBBLA_REQUIRE_POSTGRES", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server for tests; skipped with the reason when it is unreachable,
    failed instead when BIBBLA_REQUIRE_POSTGRES is set (as under CI)."""
    url = _postgres_admin_url()
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means "no server for tests"
        message = f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {error}"
        if _postgres_required():
            pytest.fail(message + " (BIBBLA_REQUIRE_POSTGRES is set)")
        pytest.skip(message)
    return url


def create_postgres_database(admin_url: str, template: str | None = None) -> tuple[str, callable]:
    """Create a throwaway database (a copy of `template` when given); returns its URL and a
    function that drops it."""
    name = f"bibbla_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        copy_of = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'operational.sqlite'}"
        return
    url, drop = create_postgres_database(request.getfixturevalue("postgres_admin_url"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def engine(database_url: str):
    """An initialised lending-core database (schema, identity, reference data)."""
    engine = create_database_engine(database_url)
    schema.init(engine, REFERENCE_DIR)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'operational.sqlite'}")
    schema.init(engine, REFERENCE_DIR)
    yield engine
    engine.dispose()


def local(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LIBRARY_TIMEZONE)


@pytest.fixture
def clock() -> SimulatedClock:
    """A Monday in June 2025, after the five municipalities joined on 2025-04-01."""
    return SimulatedClock(local(2025, 6, 2, 10))


# ---------------------------------------------------------------- parallel runs (xdist)
# `make test` runs the suite on several pytest-xdist workers, one test module per work unit
# (a module's fixtures are built once on the worker that runs it). The warehouse,
# orchestration and report tests all read one shared world (tests/world.py), built once per
# run: as soon as the workers have collected, the controller starts a builder process for
# it (and for the report site), and the workers run the tests that do not need it
# meanwhile. The builder keeps its normal priority and the workers run at a lower one, so
# the world, which the longest tests wait for, is never starved of a core.
WORLD_DIRECTORIES = ("tests/reports/", "tests/orchestration/", "tests/warehouse/")
# Long units first (measured with `--durations`), so that no long unit starts last and
# runs alone; the world's units follow them, by when the world is likely to be ready.
LONGEST_FIRST = (
    "tests/reliability/test_retention.py",
    "tests/operational/integration/test_simulation_calibration.py",
    "tests/operational/integration/test_simulation.py",
    "tests/ingestion/test_retention.py",
    "tests/reliability/test_crash_safety.py",
    "tests/reliability/test_database_faults.py",
    "tests/operational/e2e/test_api_fuzz.py",
    "tests/operational/integration/test_simulation_vans.py",
    "tests/operational/integration/test_simulation_scenarios.py",
    "tests/web/test_browser.py",
    "tests/web/test_security.py",
    "tests/web/test_visitors.py",
    "tests/web/test_search.py",
    "tests/reports/test_build.py",
    "tests/warehouse/test_warehouse.py",
    "tests/orchestration/test_checks.py",
    "tests/orchestration/test_pipeline.py",
    "tests/orchestration/test_definitions.py",
    "tests/reports/test_site.py",
    "tests/reports/test_privacy.py",
    "tests/reports/test_build_cache.py",
)
WORKER_NICENESS = 5
# A test that needs the world may wait for it (and for the site) before it starts.
WORLD_TEST_TIMEOUT = 1800
_builder: subprocess.Popen | None = None


def work_unit_of(nodeid: str) -> str:
    """The unit a test runs in: its module."""
    return nodeid.split("::", 1)[0]


def needs_world(nodeid: str) -> bool:
    return nodeid.startswith(WORLD_DIRECTORIES)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker
        os.nice(WORKER_NICENESS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        unit = work_unit_of(item.nodeid)
        return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a unit, the order the tests were written in
    for item in items:
        if needs_world(item.nodeid) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(WORLD_TEST_TIMEOUT))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's scheduler by scope, with our units as the scopes. (Its `loadgroup` mode does
    not work with pytest 9: it renames node ids through an attribute pytest no longer
    reads.) The units go out in collection order (`--no-loadscope-reorder`)."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit_of(nodeid)

    return ModuleScheduling(config, log)


def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """In the controller, once a worker has collected: start the world's builder if any
    collected test needs the world (once per run)."""
    global _builder
    if _builder is not None or not any(needs_world(nodeid) for nodeid in ids):
        return
    root = node.config._tmp_path_factory.getbasetemp()  # the workers' folders are inside
    log = (root / "world-builder.log").open("w")
    _builder = subprocess.Popen(
        [sys.executable, "-m", "tests.world", str(root)],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # stopped as a group at the end of the run
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _builder is not None and _builder.poll() is None:
        os.killpg(_builder.pid, signal.SIGTERM)
        _builder.wait(timeout=30)
